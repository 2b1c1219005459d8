"""Privacy rules: declared by a steward of the dataset's organisation, validated at declaration (422 naming the field,
nothing stored), versioned, and applied to SensorThings reads of callers below the rule's role."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.privacy.conftest import ADMIN_H, ckan

RULES = "/privacy/rules/org-a-private"


def _put(client: Any, h: dict[str, str], rules: list[dict[str, Any]], dataset: str = "org-a-private") -> Any:
    return client.put(f"/privacy/rules/{dataset}", json={"rules": rules}, headers=h)


@pytest.mark.parametrize(("rule", "field"), [
    ({"kind": "k-threshold", "k": 1}, "rules[0].k"),
    ({"kind": "k-threshold", "k": "ten"}, "rules[0].k"),
    ({"kind": "aggregate", "bucket_minutes": 15, "boundaries": "no-such-areas"}, "rules[0].boundaries"),
    ({"kind": "aggregate", "bucket_minutes": 0, "h3_resolution": 7}, "rules[0].bucket_minutes"),
    ({"kind": "aggregate", "bucket_minutes": 15, "h3_resolution": 16}, "rules[0].h3_resolution"),
    ({"kind": "redact", "fields": ["no_such_field"], "collections": ["a-points"]}, "rules[0].fields"),
    ({"kind": "redact", "fields": ["name"], "collections": ["no-such-collection"]}, "rules[0].collections"),
    ({"kind": "redact", "fields": []}, "rules[0].fields"),
    ({"kind": "pseudonymise", "fields": ["x"], "purpose": "Bad Purpose!"}, "rules[0].purpose"),
    ({"kind": "shuffle"}, "rules[0].kind"),
    ({"kind": "redact", "fields": ["x"], "role": "reader"}, "rules[0].role"),
    ({"kind": "redact", "fields": ["x"], "datastreams": [999999]}, "rules[0].datastreams"),
    ({"kind": "redact", "fields": ["x"], "colour": "red"}, "rules[0].colour"),
])
def test_bad_rules_are_refused_naming_the_field_and_nothing_is_stored(client: Any, world: dict[str, Any],
                                                                       rule: dict[str, Any], field: str) -> None:
    r = _put(client, world["h"]["steward-a"], [rule])
    assert r.status_code == 422, r.text
    assert field in r.text
    assert client.get(RULES, headers=world["h"]["steward-a"]).json()["version"] == 0


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"rules": 3}', b'{"rules": [], "x": 1}', b""])
def test_malformed_bodies_are_4xx(client: Any, world: dict[str, Any], body: bytes) -> None:
    r = client.put(RULES, content=body, headers={**world["h"]["steward-a"], "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert client.get(RULES, headers=world["h"]["steward-a"]).json()["version"] == 0


def test_oversized_body_is_413(client: Any, world: dict[str, Any]) -> None:
    r = client.put(RULES, content=b'{"rules": [' + b" " * 70_000 + b"]}",
                   headers={**world["h"]["steward-a"], "Content-Type": "application/json"})
    assert r.status_code == 413


def test_only_stewards_of_the_owner_declare(client: Any, world: dict[str, Any]) -> None:
    rule = [{"kind": "redact", "fields": ["kind"]}]
    assert _put(client, {}, rule).status_code == 401
    assert _put(client, world["h"]["publisher-a"], rule).status_code == 403
    assert _put(client, world["h"]["reader-a"], rule).status_code == 403
    assert _put(client, world["h"]["steward-b"], rule).status_code == 404  # may not even see the internal dataset
    assert _put(client, world["h"]["steward-b"], rule, "open-data").status_code == 403  # sees it, not its steward
    assert _put(client, world["h"]["steward-a"], rule, "no-such-dataset").status_code == 404
    assert client.get(RULES, headers=world["h"]["steward-a"]).json()["version"] == 0
    assert _put(client, world["h"]["steward-a"], rule).status_code == 200


def test_versions_keep_who_what_when(client: Any, world: dict[str, Any]) -> None:
    h = world["h"]["steward-a"]
    assert _put(client, h, [{"kind": "redact", "fields": ["kind"]}]).status_code == 200
    assert _put(client, ADMIN_H, [{"kind": "k-threshold", "k": 10}]).status_code == 200
    now = client.get(RULES, headers=world["h"]["reader-a"]).json()
    assert now["version"] == 2 and now["rules"][0]["kind"] == "k-threshold"
    assert "below 10" in now["description"]["en"][0] and "unter 10" in now["description"]["de"][0]
    hist = client.get(RULES + "/history", headers=h).json()["versions"]
    assert [v["version"] for v in hist] == [2, 1]
    assert hist[1]["actor"] == world["subject"]["steward-a"] and hist[1]["rules"][0]["fields"] == ["kind"]
    assert hist[0]["actor"] == "admin-token" and hist[0]["at"]
    assert client.get(RULES + "/history", headers=world["h"]["reader-a"]).status_code == 403
    assert client.get(RULES + "/history", headers=world["h"]["steward-b"]).status_code == 404
    audit = client.get("/audit", params={"action": "rules.changed"}, headers=ADMIN_H).json()["entries"]
    assert len(audit) == 2


def test_redaction_and_roles_on_sensorthings(client: Any, world: dict[str, Any], sta: Any) -> None:
    sta.observe(world["stream"], 5, "2024-01-05T00:00:00Z", parameters={"mac": "aa:bb", "rssi": -60})
    assert _put(client, world["h"]["steward-a"], [{"kind": "redact", "fields": ["mac"]}]).status_code == 200
    url = f"/sta/v1.1/Datastreams({world['stream']})/Observations?$filter=result eq 5"
    low = client.get(url, headers=world["h"]["reader-a"]).json()["value"][0]
    assert low["parameters"] == {"rssi": -60}
    nested = client.get(f"/sta/v1.1/Datastreams({world['stream']})?$expand=Observations($filter=result eq 5)",
                        headers=world["h"]["reader-a"]).json()["Observations"]
    assert nested[0]["parameters"] == {"rssi": -60}
    for who in ("steward-a", "admin"):
        assert client.get(url, headers=world["h"][who]).json()["value"][0]["parameters"]["mac"] == "aa:bb"


def test_pseudonyms_are_stable_and_crypto_shredding_unlinks_them(client: Any, world: dict[str, Any], sta: Any,
                                                                  platform: Any) -> None:
    sta.observe(world["stream"], 5, "2024-01-05T00:00:00Z", parameters={"device": "phone-1"})
    rule = {"kind": "pseudonymise", "fields": ["device"], "purpose": "wifi-presence", "period": "month"}
    assert _put(client, world["h"]["steward-a"], [rule]).status_code == 200
    url = f"/sta/v1.1/Datastreams({world['stream']})/Observations?$filter=result eq 5"

    def pseudonym() -> str:
        return str(client.get(url, headers=world["h"]["reader-a"]).json()["value"][0]["parameters"]["device"])

    first = pseudonym()
    assert first.startswith("pn:") and "phone-1" not in first and pseudonym() == first
    keys = Path(platform.settings.data_path) / "keys"
    files = list(keys.glob("wifi-presence.*.key"))
    assert len(files) == 1 and (files[0].stat().st_mode & 0o777) == 0o600
    from click.testing import CliRunner

    from urbanos.privacy.rules.cli import commands

    period = files[0].name.split(".")[1]
    cli = commands()[0]
    out = CliRunner().invoke(cli, ["shred-key", "wifi-presence", period, "--data-dir", str(platform.settings.data_path),
                                   "--yes"])
    assert out.exit_code == 0, out.output
    assert not files[0].exists()
    platform.services["pseudonym_keys"].forget()
    second = pseudonym()
    assert second.startswith("pn:") and second != first  # the old pseudonym links to nothing any more


def test_key_from_the_environment(monkeypatch: Any, tmp_path: Path) -> None:
    from urbanos.privacy.rules.keys import KeyStore

    monkeypatch.setenv("URBANOS_PSEUDONYM_KEY_WIFI_PRESENCE_2026_12", "ab" * 32)
    a = KeyStore(tmp_path / "keys").pseudonym("wifi-presence", "2026-12", "x")
    b = KeyStore(tmp_path / "other").pseudonym("wifi-presence", "2026-12", "x")
    assert a == b and not (tmp_path / "keys").exists()
    assert os.environ["URBANOS_PSEUDONYM_KEY_WIFI_PRESENCE_2026_12"]


def test_k_threshold_withholds_and_says_how_many(client: Any, world: dict[str, Any]) -> None:
    assert _put(client, world["h"]["steward-a"], [{"kind": "k-threshold", "k": 2}]).status_code == 200
    r = client.get(f"/sta/v1.1/Datastreams({world['stream']})/Observations", headers=world["h"]["reader-a"])
    assert [o["result"] for o in r.json()["value"]] == [2]
    assert r.headers["privacy-suppressed"] == "2" and "k-threshold" in r.headers["privacy-rules"]
    assert len(client.get(f"/sta/v1.1/Datastreams({world['stream']})/Observations",
                          headers=world["h"]["steward-a"]).json()["value"]) == 3


def test_aggregation_uses_whole_buckets_never_single_rows(client: Any, world: dict[str, Any], sta: Any) -> None:
    for minute, v in ((1, 4), (7, 6), (14, 5)):
        sta.observe(world["stream"], v, f"2024-02-01T10:{minute:02d}:00Z")
    rule = {"kind": "aggregate", "bucket_minutes": 15, "h3_resolution": 7}
    assert _put(client, world["h"]["steward-a"], [rule]).status_code == 200
    h = world["h"]["reader-a"]
    one = client.get("/sta/v1.1/Observations?$filter=result eq 6", headers=h)
    assert one.status_code == 200, one.text
    cells = one.json()["value"]
    assert len(cells) == 1 and cells[0]["result"] == 15.0 and cells[0]["parameters"]["urbanos:observations"] == 3
    assert cells[0]["phenomenonTime"] == "2024-02-01T10:00:00Z/2024-02-01T10:15:00Z" and "@iot.id" not in cells[0]
    assert "@iot.count" not in client.get("/sta/v1.1/Observations?$count=true", headers=h).json()
    nested = client.get("/sta/v1.1/Datastreams?$expand=Observations", headers=h)
    assert nested.status_code == 200 and all(d["Observations"] == [] for d in nested.json()["value"])
    for path in ("/sta/v1.1/Observations?$resultFormat=dataArray",
                 "/sta/v1.1/Observations(1)/result", "/ogcapi/collections/a-points/items",
                 "/download/a-points.csv"):
        r = client.get(path, headers=h)
        assert r.status_code == 403 and "aggregate" in r.text, (path, r.status_code, r.text)
    raw = client.get("/sta/v1.1/Observations?$filter=result eq 6", headers=world["h"]["steward-a"]).json()["value"]
    assert raw[0]["result"] == 6 and "@iot.id" in raw[0]


def test_aggregation_with_k_withholds_small_cells(client: Any, world: dict[str, Any], sta: Any) -> None:
    rule = {"kind": "aggregate", "bucket_minutes": 60, "h3_resolution": 5, "k": 2}
    assert _put(client, world["h"]["steward-a"], [rule]).status_code == 200
    r = client.get("/sta/v1.1/Observations", headers=world["h"]["reader-a"])
    # cells: 2024-01-01 (0), 01-02 (1) withheld; 01-03 (2) kept
    assert [c["result"] for c in r.json()["value"]] == [2.0]
    assert r.headers["privacy-suppressed"] == "2"


def test_an_open_datasets_aggregates_take_only_open_boundaries(client: Any, world: dict[str, Any], platform: Any,
                                                                fx: Any) -> None:
    """The aggregates of an open dataset publish the names of their areas to everyone: a boundary collection its
    steward may read but the public may not (here an internal one) is refused, naming the field; an open one is
    taken (the old code took both, and the area names of the internal collection reached anonymous readers)."""
    rule = [{"kind": "aggregate", "bucket_minutes": 15, "boundaries": "a-points"}]
    r = _put(client, world["h"]["steward-a"], rule, "open-data")
    assert r.status_code == 422 and "rules[0].boundaries" in r.text and "open data" in r.text, r.text
    assert client.get("/privacy/rules/open-data", headers=world["h"]["steward-a"]).json()["version"] == 0
    assert _put(client, world["h"]["steward-a"], rule).status_code == 200  # the internal dataset's own aggregates
    fx.add_points(platform, "open-points", world["ids"]["open-data"])
    opened = [{**rule[0], "boundaries": "open-points"}]
    assert _put(client, world["h"]["steward-a"], opened, "open-data").status_code == 200


def test_stewards_read_back_their_confidential_datasets_settings(client: Any, world: dict[str, Any]) -> None:
    """A steward may set the privacy rules and retention of its organisation's confidential dataset without a grant to
    read its data: it reads the settings back too (they answered 404). Its organisation's readers and publishers, and
    another organisation's steward, still learn nothing of the dataset."""
    r = client.post("/api/3/action/package_patch", json={"id": "org-a-private", "access_level": "confidential"},
                    headers=ADMIN_H)
    assert r.status_code == 200, r.text
    h = world["h"]["steward-a"]
    assert _put(client, h, [{"kind": "k-threshold", "k": 5}]).status_code == 200
    assert client.put("/privacy/retention/org-a-private", json={"days": 30}, headers=h).status_code == 200
    got = client.get(RULES, headers=h)
    assert got.status_code == 200 and got.json()["rules"][0]["k"] == 5
    assert [v["version"] for v in client.get(RULES + "/history", headers=h).json()["versions"]] == [1]
    assert client.get("/privacy/retention/org-a-private", headers=h).json()["days"] == 30
    for who in ("reader-a", "publisher-a", "steward-b", "anonymous"):
        for path in (RULES, RULES + "/history", "/privacy/retention/org-a-private"):
            assert client.get(path, headers=world["h"][who]).status_code == 404, (who, path)
    # the data itself stays closed to the steward without a grant
    assert client.get(f"/sta/v1.1/Datastreams({world['stream']})", headers=h).status_code == 404


def test_a_non_open_datasets_aggregates_take_only_boundaries_its_readers_may_read(client: Any, world: dict[str, Any],
                                                                                  platform: Any) -> None:
    """The aggregates show the names of their areas to everyone who may read the dataset: the steward of a
    registered dataset (read by every signed-in caller) may not aggregate it by org-a's internal collection, which
    org-b's reader may not read; an internal dataset of the same organisation may. The old code asked only whether
    the declaring steward could read the boundaries, and the area names of the internal collection reached every
    signed-in reader."""
    ckan(client, "package_create", {"name": "reg-data", "title": "Registered", "owner_org": "org-a",
                                    "access_level": "registered", "grounds": ["gdpr-personal-data"]}, headers=ADMIN_H)
    rule = [{"kind": "aggregate", "bucket_minutes": 15, "boundaries": "a-points"}]
    r = _put(client, world["h"]["steward-a"], rule, "reg-data")
    assert r.status_code == 422 and "rules[0].boundaries" in r.text and "registered dataset" in r.text, r.text
    assert client.get("/privacy/rules/reg-data", headers=world["h"]["steward-a"]).json()["version"] == 0
    assert _put(client, world["h"]["steward-a"], rule).status_code == 200  # internal data of org-a, org-a's areas
    r = client.post("/api/3/action/package_patch", json={"id": "org-a-private", "access_level": "registered"},
                    headers=ADMIN_H)
    assert r.status_code == 200, r.text  # the boundaries opened to every signed-in caller: now they reach them all
    assert _put(client, world["h"]["steward-a"], rule, "reg-data").status_code == 200


def test_boundaries_closed_after_the_declaration_stop_the_aggregates(client: Any, world: dict[str, Any],
                                                                      platform: Any, sta: Any) -> None:
    """Boundaries that every reader could read when the rule was declared, and that their own dataset's steward
    closed since: the aggregates would show their area names to callers who may no longer read them, so reads of the
    dataset answer 503 naming the collection until it is opened again. The old code went on serving them."""
    from tests.sensing.sta_helpers import thing

    ckan(client, "package_create", {"name": "reg-data", "title": "Registered", "owner_org": "org-a",
                                    "access_level": "registered", "grounds": ["gdpr-personal-data"]}, headers=ADMIN_H)
    reg = int(platform.db.read_sync(lambda c: c.fetchval("SELECT id FROM datasets WHERE name = 'reg-data'")))
    tid = sta.create("/Things", {**thing("Counter R"), "dataset_id": reg})["@iot.id"]
    stream = sta.ok(f"/Things({tid})/Datastreams", sta.h)["value"][0]["@iot.id"]
    sta.observe(stream, 12, "2024-03-01T10:05:00Z")

    def patch(level: str) -> None:
        r = client.post("/api/3/action/package_patch", json={"id": "org-a-private", "access_level": level},
                        headers=ADMIN_H)
        assert r.status_code == 200, r.text

    patch("registered")
    rule = [{"kind": "aggregate", "bucket_minutes": 15, "boundaries": "a-points"}]
    assert _put(client, world["h"]["steward-a"], rule, "reg-data").status_code == 200
    url = f"/sta/v1.1/Datastreams({stream})/Observations"
    assert client.get(url, headers=world["h"]["reader"]).status_code == 200
    patch("internal")  # org-a's points are org-a's again: a reader of no organisation may not read them
    platform.gate.visibility_cache.forget()  # as in a fresh process: the reader's own read loads the gate's view
    r = client.get(url, headers=world["h"]["reader"])
    assert r.status_code == 503 and "a-points" in r.text and "no longer readable" in r.text, r.text
    assert client.get(url, headers=world["h"]["steward-a"]).json()["value"][0]["result"] == 12  # the stewards: rows
    patch("registered")
    assert client.get(url, headers=world["h"]["reader"]).status_code == 200
