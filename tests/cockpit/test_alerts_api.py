"""The alerts API and pages through the in-process app: who may do what, bad input, episodes recorded from the write
path's events (time driven by the test), state kept over a restart, and the HTML pages in English and German."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, api_token
from tests.sensing.sta_helpers import thing

NOW = "2024-01-01T00:00:00.000000Z"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class World:
    """Two organisations' datasets with one Datastream each, tokens of every kind, the alert service's clock."""

    def __init__(self, client: Any, platform: Any) -> None:
        self.c, self.platform = client, platform
        self.svc = platform.services["alerts"]
        self.clock = Clock()
        self.svc.engine.clock = self.clock
        self.open_a = self.stream("bins-a", "open", "org-a")
        self.secret_a = self.stream("secret-a", "confidential", "org-a")
        self.open_b = self.stream("bins-b", "open", "org-b")
        self.tokens = {"reader": api_token(client, "r", "reader"),
                       "pub_a": api_token(client, "pa", "publisher", "org-a"),
                       "steward_a": api_token(client, "sa", "steward", "org-a"),
                       "pub_b": api_token(client, "pb", "publisher", "org-b"),
                       "admin": ADMIN_TOKEN}

    def stream(self, name: str, access: str, org: str) -> int:
        dsid = self.platform.db.write_sync(lambda c: c.insert("datasets", {
            "name": name, "title": name, "owner_org": org, "access_level": access, "created_at": NOW,
            "modified_at": NOW}))
        r = self.c.post("/sta/v1.1/Things", json=thing(name, dataset_id=dsid), headers=self.h("admin"))
        assert r.status_code == 201, r.text
        tid = r.json()["@iot.id"]
        got = self.c.get(f"/sta/v1.1/Things({tid})/Datastreams", headers=self.h("admin")).json()
        return int(got["value"][0]["@iot.id"])

    def h(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        token = ADMIN_TOKEN if who == "admin" else self.tokens[who]
        return {"Authorization": f"Bearer {token}"}

    def rule(self, who: str, body: dict[str, Any]) -> Any:
        return self.c.post("/alerts/rules", json=body, headers=self.h(who))

    def observe(self, ds: int, value: Any) -> None:
        r = self.c.post("/sta/v1.1/Observations", json={"result": value, "Datastream": {"@iot.id": ds}},
                        headers=self.h("admin"))
        assert r.status_code == 201, r.text

    def settle(self) -> None:
        self.c.portal.call(self.svc.settle)

    def tick(self, seconds: float) -> None:
        self.clock.now += seconds
        self.c.portal.call(self.svc.tick)

    def episodes(self, query: str = "", who: str = "admin") -> list[dict[str, Any]]:
        r = self.c.get(f"/alerts/episodes{query}", headers=self.h(who))
        assert r.status_code == 200, r.text
        return r.json()["episodes"]  # type: ignore[no-any-return]

    def count(self) -> int:
        return int(self.platform.db.read_sync(lambda c: c.fetchval("SELECT COUNT(*) FROM alert_rules")))


@pytest.fixture
def w(client: Any, platform: Any) -> World:
    return World(client, platform)


def bins(ds: int, **extra: Any) -> dict[str, Any]:
    return {"name": "Bin full", "datastream": ds, "threshold": {"operator": ">=", "fire": 80, "clear": 70}, **extra}


# -- who may do what --------------------------------------------------------------------------------------------
def test_create_answers_the_secret_once(w: World) -> None:
    r = w.rule("pub_a", bins(w.open_a, channels={"webhook": "https://hooks.example.org/x"}))
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["secret"]) >= 32 and r.headers["location"] == f"/alerts/rules/{body['id']}"
    assert body["threshold"] == {"operator": ">=", "fire": 80.0, "clear": 70.0} and body["state"] == "ok"
    again = w.c.get(f"/alerts/rules/{body['id']}", headers=w.h("pub_a")).json()
    assert "secret" not in again and again["channels"]["webhook"] == "https://hooks.example.org/x"
    rotated = w.c.patch(f"/alerts/rules/{body['id']}", json={"rotate_secret": True}, headers=w.h("pub_a")).json()
    assert rotated["secret"] != body["secret"]


MATRIX = [(None, "open_a", 401), ("reader", "open_a", 403), ("pub_b", "open_a", 403), ("pub_b", "secret_a", 404),
          ("reader", "secret_a", 404), ("pub_a", "open_a", 201), ("pub_a", "secret_a", 201),
          ("steward_a", "open_a", 201), ("admin", "open_b", 201), ("pub_b", "open_b", 201)]


def test_create_matrix(w: World) -> None:
    for who, stream, status in MATRIX:
        before = w.count()
        r = w.c.post("/alerts/rules", json=bins(getattr(w, stream)), headers=w.h(who))
        assert r.status_code == status, (who, stream, r.text)
        assert w.count() == before + (1 if status == 201 else 0)
        if status == 403 and who == "pub_b":
            assert "org-a" in r.json()["detail"]
        if status == 404:
            assert r.json()["detail"] == f"Datastream {getattr(w, stream)} does not exist."


def test_change_and_delete_matrix(w: World) -> None:
    rid = w.rule("pub_a", bins(w.open_a)).json()["id"]
    for who, status in ((None, 401), ("reader", 403), ("pub_b", 403)):
        assert w.c.patch(f"/alerts/rules/{rid}", json={"name": "x"}, headers=w.h(who)).status_code == status
        assert w.c.delete(f"/alerts/rules/{rid}", headers=w.h(who)).status_code == status
    assert w.c.get(f"/alerts/rules/{rid}", headers=w.h("admin")).json()["name"] == "Bin full"
    # moving the rule to another organisation's Datastream is refused too
    r = w.c.patch(f"/alerts/rules/{rid}", json={"datastream": w.open_b}, headers=w.h("pub_a"))
    assert r.status_code == 403
    r = w.c.patch(f"/alerts/rules/{rid}", json={"name": "Bin nearly full"}, headers=w.h("steward_a"))
    assert r.status_code == 200 and r.json()["name"] == "Bin nearly full" and "secret" not in r.json()
    assert w.c.delete(f"/alerts/rules/{rid}", headers=w.h("pub_a")).status_code == 204
    assert w.c.get(f"/alerts/rules/{rid}", headers=w.h("admin")).status_code == 404


def test_reads_follow_the_datasets_visibility(w: World) -> None:
    open_rule = w.rule("pub_a", bins(w.open_a, channels={"email": ["ops@city.example"]})).json()["id"]
    hidden_rule = w.rule("pub_a", bins(w.secret_a)).json()["id"]
    assert w.c.get("/alerts/rules").status_code == 401
    seen = {r["id"]: r for r in w.c.get("/alerts/rules", headers=w.h("reader")).json()["rules"]}
    assert open_rule in seen and hidden_rule not in seen
    assert seen[open_rule]["channels"] == {"webhook": False, "mqtt": False, "email": 1}  # addresses hidden
    assert w.c.get(f"/alerts/rules/{hidden_rule}", headers=w.h("reader")).status_code == 404
    assert w.c.get(f"/alerts/rules/{hidden_rule}", headers=w.h("pub_b")).status_code == 404
    mine = w.c.get(f"/alerts/rules/{open_rule}", headers=w.h("pub_a")).json()
    assert mine["channels"]["email"] == ["ops@city.example"] and mine["editable"] is True
    assert w.c.delete(f"/alerts/rules/{hidden_rule}", headers=w.h("pub_b")).status_code == 404


# -- bad input ------------------------------------------------------------------------------------------------
BAD = [
    ({"threshold": {"operator": ">=", "fire": 80, "clear": 90}}, "threshold.clear"),
    ({"threshold": {"operator": "<", "fire": 10, "clear": 5}}, "threshold.clear"),
    ({"threshold": {"operator": "=>", "fire": 80}}, "threshold.operator"),
    ({"threshold": {"operator": ">=", "fire": "80"}}, "threshold.fire"),
    ({"threshold": {"operator": ">="}}, "threshold.fire"),
    ({"threshold": {"operator": ">=", "fire": 1, "colour": 1}}, "threshold.colour"),
    ({"threshold": [80]}, "threshold"),
    ({"pending_seconds": -1}, "pending_seconds"),
    ({"pending_seconds": True}, "pending_seconds"),
    ({"staleness_minutes": 0}, "staleness_minutes"),
    ({"name": 5}, "name"),
    ({"name": ""}, "name"),
    ({"datastream": "abc"}, "datastream"),
    ({"datastream": -3}, "datastream"),
    ({"channels": {"mqtt": "yes"}}, "channels.mqtt"),
    ({"channels": {"webhook": "ftp://example.org/x"}}, "channels.webhook"),
    ({"channels": {"email": ["not an address"]}}, "channels.email[0]"),
    ({"channels": {"sms": "123"}}, "channels.sms"),
    ({"enabled": "no"}, "enabled"),
    ({"colour": "red"}, "colour"),
    ({"threshold": None}, "threshold"),
]


def test_bad_rules_name_the_field(w: World) -> None:
    for change, field in BAD:
        r = w.rule("pub_a", {**bins(w.open_a), **change})
        assert r.status_code == 400, (change, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"]["field"] == field, change
    assert w.count() == 0


def test_malformed_oversized_and_unknown(w: World) -> None:
    h = {**w.h("pub_a"), "Content-Type": "application/json"}
    assert w.c.post("/alerts/rules", content=b"{not json", headers=h).status_code == 400
    assert w.c.post("/alerts/rules", content=b"[1, 2]", headers=h).status_code == 400
    assert w.c.post("/alerts/rules", content=b"", headers=h).status_code == 400
    big = b'{"name": "' + b"x" * 70000 + b'"}'
    assert w.c.post("/alerts/rules", content=big, headers=h).status_code == 413
    assert w.rule("pub_a", bins(999999)).status_code == 404
    assert w.c.get("/alerts/rules/424242", headers=h).status_code == 404
    assert w.c.get("/alerts/rules/abc", headers=h).status_code == 404
    assert w.c.patch("/alerts/rules/424242", json={"name": "x"}, headers=h).status_code == 404
    assert w.c.get("/alerts/episodes/424242", headers=h).status_code == 404
    for q in ("?state=burning", "?since=yesterday", "?rule=x", "?limit=0", "?colour=red"):
        assert w.c.get(f"/alerts/episodes{q}", headers=h).status_code == 400, q
    rid = w.rule("pub_a", bins(w.open_a)).json()["id"]
    r = w.c.patch(f"/alerts/rules/{rid}", json={"threshold": {"operator": ">", "fire": 1, "clear": 2}}, headers=h)
    assert r.status_code == 400 and r.json()["errors"]["field"] == "threshold.clear"
    assert w.c.get(f"/alerts/rules/{rid}", headers=h).json()["threshold"]["fire"] == 80
    assert w.count() == 1


# -- episodes from the write path ---------------------------------------------------------------------------------
def test_episodes_from_observations(w: World) -> None:
    rid = w.rule("pub_a", bins(w.open_a, pending_seconds=60, staleness_minutes=10)).json()["id"]
    w.observe(w.open_a, 95)
    w.tick(30)
    w.observe(w.open_a, 50)  # a spike shorter than the pending period
    w.tick(120)
    assert w.episodes() == []
    w.observe(w.open_a, 85)
    w.tick(61)  # held for the pending period: fires
    for v in (79, 75, 71, 88):
        w.observe(w.open_a, v)
    w.settle()
    eps = w.episodes(f"?rule={rid}")
    assert [(e["kind"], e["state"]) for e in eps] == [("threshold", "firing")]
    w.observe(w.open_a, 69)
    w.settle()
    w.tick(601)  # no data for ten minutes: one no-data episode, however long the silence
    w.tick(3600)
    eps = w.episodes(f"?rule={rid}")
    assert [(e["kind"], e["state"]) for e in eps] == [("nodata", "firing"), ("threshold", "resolved")]
    w.observe(w.open_a, 10)
    w.settle()
    assert [e["state"] for e in w.episodes("?kind=nodata")] == ["resolved"]
    assert [e["kind"] for e in w.episodes("?state=resolved")] == ["nodata", "threshold"]
    assert w.episodes("?since=2999-01-01T00:00:00Z") == []
    rule = w.c.get(f"/alerts/rules/{rid}", headers=w.h("pub_a")).json()
    assert rule["last_value"] == 10 and rule["state"] == "ok" and rule["no_data"] is False
    one = w.c.get(f"/alerts/episodes/{eps[1]['id']}", headers=w.h("reader")).json()
    assert one["start_value"] == 85 and one["end_value"] == 69 and one["rule"] == rid
    assert w.episodes(who="pub_b") != [] and w.c.get("/alerts/episodes").status_code == 401


def test_data_arrays_are_evaluated_in_order(w: World) -> None:
    rid = w.rule("pub_a", bins(w.open_a)).json()["id"]
    body = [{"Datastream": {"@iot.id": w.open_a}, "components": ["phenomenonTime", "result"],
             "dataArray": [[f"2024-01-01T00:0{i}:00Z", v] for i, v in enumerate((50, 85, 90, "n/a", 60))]}]
    r = w.c.post("/sta/v1.1/CreateObservations", json=body, headers=w.h("pub_a"))
    assert r.status_code == 201 and "error" not in r.json(), r.text
    w.observe(w.open_a, 95)  # after the array: seen after its values
    w.settle()
    eps = w.episodes(f"?rule={rid}")
    assert [(e["state"], e["start_value"], e["end_value"]) for e in eps] == [("firing", 95, None),
                                                                            ("resolved", 85, 60)]


def test_bulk_observations_are_evaluated_in_order(w: World) -> None:
    """A feed's bulk write comes as one batch event: each of its Observations is evaluated, in order, before the
    Observations written after it."""
    from urbanos.governance import ADMIN
    from urbanos.ports import SensingPort

    rid = w.rule("pub_a", bins(w.open_a)).json()["id"]
    port = w.platform.require(SensingPort)
    rows = [(w.open_a, f"2024-01-01T00:0{i}:00Z", v) for i, v in enumerate((50, 85, 90, "n/a", 60))]
    ids = w.platform.db.write_sync(lambda c: port.create_observations_bulk(c, ADMIN, rows))
    assert None not in ids
    w.observe(w.open_a, 95)  # after the batch: seen after its values
    w.settle()
    eps = w.episodes(f"?rule={rid}")
    assert [(e["state"], e["start_value"], e["end_value"]) for e in eps] == [("firing", 95, None),
                                                                            ("resolved", 85, 60)]


def test_hidden_rules_episodes_are_hidden(w: World) -> None:
    rid = w.rule("pub_a", bins(w.secret_a)).json()["id"]
    w.observe(w.secret_a, 99)
    w.settle()
    assert len(w.episodes(who="admin")) == 1
    # a publisher of the owner feeds and manages confidential data without a grant to read it back
    assert w.episodes(who="pub_a") == [] and w.episodes(who="reader") == [] and w.episodes(who="pub_b") == []
    eid = w.episodes(who="admin")[0]["id"]
    assert w.c.get(f"/alerts/episodes/{eid}", headers=w.h("pub_b")).status_code == 404
    assert w.c.get(f"/alerts/rules/{rid}", headers=w.h("pub_a")).status_code == 404
    assert w.c.patch(f"/alerts/rules/{rid}", json={"name": "x"}, headers=w.h("pub_b")).status_code == 404
    assert w.c.patch(f"/alerts/rules/{rid}", json={"name": "x"}, headers=w.h("pub_a")).status_code == 200
    assert w.c.delete(f"/alerts/rules/{rid}", headers=w.h("pub_a")).status_code == 204


def test_restart_restores_state(make_settings: Any) -> None:
    from urbanos.web.app import create_app

    settings = make_settings()
    clock = Clock()

    def run(steps: Any) -> Any:
        app = create_app(settings)
        app.state.platform.services["alerts"].engine.clock = clock  # before start-up, which loads the rules
        try:
            with TestClient(app, raise_server_exceptions=False) as c:
                return steps(c, app.state.platform.services["alerts"])
        finally:
            app.state.platform.close()

    def first(c: Any, svc: Any) -> tuple[int, int]:
        h = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        tid = c.post("/sta/v1.1/Things", json=thing("bin"), headers=h).json()["@iot.id"]
        ds = c.get(f"/sta/v1.1/Things({tid})/Datastreams").json()["value"][0]["@iot.id"]
        rid = c.post("/alerts/rules", json=bins(ds, staleness_minutes=5), headers=h).json()["id"]
        c.post("/sta/v1.1/Observations", json={"result": 90, "Datastream": {"@iot.id": ds}}, headers=h)
        c.portal.call(svc.settle)
        return ds, rid

    ds, rid = run(first)

    def second(c: Any, svc: Any) -> list[tuple[str, str]]:
        h = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        c.post("/sta/v1.1/Observations", json={"result": 95, "Datastream": {"@iot.id": ds}}, headers=h)
        c.portal.call(svc.settle)
        clock.now += 301  # five minutes without data after the last one before the restart
        c.portal.call(svc.tick)
        c.post("/sta/v1.1/Observations", json={"result": 40, "Datastream": {"@iot.id": ds}}, headers=h)
        c.portal.call(svc.settle)
        eps = c.get(f"/alerts/episodes?rule={rid}", headers=h).json()["episodes"]
        return [(e["kind"], e["state"]) for e in eps]

    assert run(second) == [("nodata", "resolved"), ("threshold", "resolved")]


# -- pages ------------------------------------------------------------------------------------------------------
@pytest.fixture
def signed_in(w: World) -> Iterator[World]:
    yield w
    w.c.cookies.clear()


def test_pages(signed_in: World) -> None:
    w = signed_in
    rid = w.rule("pub_a", bins(w.open_a, name="</script><b>bold</b>")).json()["id"]
    w.observe(w.open_a, 91)
    w.settle()
    page = w.c.get("/alerts", headers={"Accept": "text/html"})
    assert page.status_code == 401 and 'href="/signin?next=/alerts"' in page.text
    w.c.cookies.set("urbanos_portal_token", w.tokens["reader"])
    assert w.c.get("/alerts").status_code == 403
    w.c.cookies.set("urbanos_portal_token", w.tokens["pub_a"])
    page = w.c.get("/alerts")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "</script><b>" not in page.text and "&lt;/script&gt;&lt;b&gt;bold" in page.text
    assert '<th scope="col">' in page.text and "<caption>" in page.text and 'tabindex="0"' in page.text
    assert "Firing" in page.text and "default-src 'self'" in page.headers["content-security-policy"]
    de = w.c.get("/alerts", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert "<h1>Alarme</h1>" in de.text and de.headers["content-language"] == "de" and "Ausgelöst" in de.text
    eid = w.episodes(f"?rule={rid}")[0]["id"]
    ep = w.c.get(f"/alerts/episodes/{eid}?lang=de", headers={"Accept": "text/html"})
    assert ep.status_code == 200 and f"Alarm-Episode {eid}" in ep.text
    as_json = w.c.get(f"/alerts/episodes/{eid}", headers={**w.h("pub_a"), "Accept": "application/json"})
    assert as_json.json()["id"] == eid
    missing = w.c.get("/alerts/episodes/999999", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    w.c.cookies.set("urbanos_portal_token", "not-a-token")
    assert w.c.get("/alerts").status_code == 401


def test_transitions_are_recorded_in_the_order_they_came(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """While one recording waits for the database, the next transitions (here recorded by ``settle``) wait for it: on
    PostgreSQL two writes on two connections could otherwise commit in the wrong order, a resolution before the
    firing it closes."""
    import asyncio

    rid = w.rule("pub_a", bins(w.open_a)).json()["id"]
    real, held = w.platform.db.write, [1.0]

    async def slow_first_recording(fn: Any, *args: Any, **kwargs: Any) -> Any:
        if held and fn.__qualname__.endswith("_record.<locals>.tx"):
            await asyncio.sleep(held.pop())
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(w.platform.db, "write", slow_first_recording)
    for value in (95, 50, 90):  # fires, resolves, fires again, while the first recording is held
        w.observe(w.open_a, value)
    w.settle()
    eps = w.episodes(f"?rule={rid}")
    assert [(e["state"], e["start_value"], e["end_value"]) for e in eps] == [("firing", 90, None),
                                                                            ("resolved", 95, 50)]
