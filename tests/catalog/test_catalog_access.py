"""Access enforcement on every catalogue path, against every level of caller."""

from __future__ import annotations

from typing import Any

import pytest

WHO = ("anonymous", "registered", "member-a", "grantee", "admin")
ALL = ("open-data", "registered-data", "internal-a", "internal-b", "confidential-plain", "confidential-granted", "foreign-row")


@pytest.mark.parametrize("who", WHO)
def test_search_results_count_and_facets(cat: Any, who: str) -> None:
    want = cat.visible[who]
    r = cat.call("package_search", who, rows=1000, **{"facet.field": '["access_level", "organization", "tags", "res_format"]'})
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert {p["name"] for p in res["results"]} == want
    assert res["count"] == len(want)
    levels: dict[str, int] = {}
    for name in want:
        lvl = cat.datasets.get(name, ("", "open", []))[1]
        levels[lvl] = levels.get(lvl, 0) + 1
    assert res["facets"]["access_level"] == levels
    assert res["facets"]["tags"].get("common", 0) == len(want - {"foreign-row"})
    assert sum(res["facets"]["res_format"].values()) == len(want - {"foreign-row"})
    # full text and fq cannot widen the set
    r = cat.call("package_search", who, q="bicycles", fq="tags:common OR tags:confidential", rows=1000)
    assert {p["name"] for p in r.json()["result"]["results"]} <= want


@pytest.mark.parametrize("who", WHO)
def test_package_list_show_and_resource_show(cat: Any, who: str) -> None:
    want = cat.visible[who]
    assert set(cat.call("package_list", who).json()["result"]) == want
    for name in ALL:
        r = cat.call("package_show", who, id=name)
        if name in want:
            assert r.status_code == 200, (who, name, r.text)
            assert r.json()["result"]["name"] == name
        else:
            assert r.status_code == 403, (who, name, r.text)
            assert r.json()["error"]["__type"] == "Authorization Error"
            assert "Title of" not in r.text
    for name, rid in cat.resources.items():
        r = cat.call("resource_show", who, id=rid)
        assert r.status_code == (200 if name in want else 403), (who, name)


@pytest.mark.parametrize("who", WHO)
def test_counts_on_organizations_groups_and_tags(cat: Any, who: str) -> None:
    want = cat.visible[who]
    org_a = cat.call("organization_show", who, id="org-a", include_datasets="true").json()["result"]
    in_a = {n for n in want if cat.datasets.get(n, ("",))[0] == "org-a"}
    assert org_a["package_count"] == len(in_a)
    assert {p["name"] for p in org_a["packages"]} == in_a
    listed = {o["name"]: o["package_count"] for o in cat.call("organization_list", who, all_fields="true").json()["result"]}
    assert listed["org-a"] == len(in_a)
    tags = set(cat.call("tag_list", who).json()["result"])
    levels = {cat.datasets[n][1] for n in want if n in cat.datasets}
    assert tags == {"common", *levels}


@pytest.mark.parametrize("who", WHO)
def test_downloads(cat: Any, who: str) -> None:
    want = cat.visible[who]
    urls = {}
    for name in ("open-data", "internal-a", "confidential-granted"):
        r = cat.client.post("/api/3/action/resource_create", data={"package_id": name, "name": "upload"},
                            files={"upload": ("data.csv", b"a,b\n1,2\n", "text/csv")}, headers=cat.h("admin"))
        assert r.status_code == 200, r.text
        urls[name] = r.json()["result"]["url"]
    for name, url in urls.items():
        r = cat.client.get(url, headers=cat.h(who))
        if name in want:
            assert r.status_code == 200 and r.content == b"a,b\n1,2\n"
        else:
            assert r.status_code == 403
            assert b"1,2" not in r.content


@pytest.mark.parametrize("who", WHO)
def test_inventory_lists_everything_without_data(cat: Any, who: str) -> None:
    r = cat.call("inventory_list", who)
    assert r.status_code == 200
    items = {i["name"]: i for i in r.json()["result"]}
    assert set(items) == set(ALL)
    for name, (_, level, grounds) in cat.datasets.items():
        assert items[name]["access_level"] == level
        assert items[name]["grounds"] == grounds
        if level != "open":
            assert "resources" not in items[name]
            assert "example.org" not in str(items[name])
    assert items["open-data"]["resources"][0]["url"].startswith("https://example.org/")


def test_service_methods_respect_the_gate(cat: Any) -> None:
    import asyncio

    from urbanos.errors import Forbidden
    from urbanos.governance import ANONYMOUS

    svc = cat.platform.services["catalog"]

    async def run() -> None:
        res = await svc.package_search(ANONYMOUS, q="", facet_fields=["access_level"], rows=100)
        assert res["facets"]["access_level"] == {"open": 2}
        with pytest.raises(Forbidden):
            await svc.package_show(ANONYMOUS, "internal-a")
        with pytest.raises(Forbidden):
            await svc.quality(ANONYMOUS, "confidential-plain")
        pkgs, total = await svc.all_packages(ANONYMOUS)
        assert total == 2 and {p["name"] for p in pkgs} == {"open-data", "foreign-row"}

    asyncio.run(run())


def test_search_cache_follows_grants_and_writes(cat: Any) -> None:
    def visible(who: str) -> set[str]:
        return {p["name"] for p in cat.call("package_search", who, rows=100, **{"facet.field": '["access_level"]'}).json()["result"]["results"]}

    assert "confidential-plain" not in visible("grantee")
    subject = "token:" + cat.tokens["grantee"].split("_")[1]

    def grant(x: Any) -> None:
        ds_id = x.fetchval("SELECT id FROM datasets WHERE name = ?", ("confidential-plain",))
        x.execute("INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, ?, ?)", (ds_id, subject, "2025-01-01T00:00:00Z"))

    cat.platform.db.write_sync(grant)
    assert "confidential-plain" in visible("grantee")
    cat.platform.db.write_sync(lambda x: x.execute("DELETE FROM dataset_grants WHERE subject = ?", (subject,)))
    assert "confidential-plain" not in visible("grantee") and "confidential-granted" not in visible("grantee")
    cat.call("package_patch", "admin", "POST", id="registered-data", access_level="confidential")
    assert "registered-data" not in visible("registered")


@pytest.mark.parametrize("who", WHO)
def test_row_filter_agrees_with_dataset_filter(cat: Any, who: str) -> None:
    import asyncio

    gate = cat.platform.gate
    ident = asyncio.run(gate.authenticate(cat.tokens.get(who))) if who != "anonymous" else gate.authenticate_sync(None)
    a_sql, a_params = gate.dataset_filter(ident, "d.id")
    b_sql, b_params = gate.dataset_row_filter(ident, "d")
    q = "SELECT name FROM datasets d WHERE {} ORDER BY name"
    a = cat.platform.db.read_sync(lambda c: [r[0] for r in c.fetchall(q.format(a_sql), a_params)])
    b = cat.platform.db.read_sync(lambda c: [r[0] for r in c.fetchall(q.format(b_sql), b_params)])
    assert a == b == sorted(cat.visible[who])


def test_package_patch_clears_governance_fields(cat: Any) -> None:
    """A key given to package_patch replaces the stored value, an empty one too: the governance fields, which
    package_show also lists in ``extras``, were kept from there."""
    r = cat.call("package_patch", "admin", "POST", id="registered-data", legal_basis="Art. 6(1)(e) GDPR",
                 steward="data@example.org")
    assert r.status_code == 200, r.text
    assert r.json()["result"]["legal_basis"] == "Art. 6(1)(e) GDPR"
    for patch in ({"legal_basis": ""}, {"steward": None}, {"access_level": "open", "grounds": []}):
        r = cat.call("package_patch", "admin", "POST", id="registered-data", **patch)
        assert r.status_code == 200, r.text
    shown = cat.call("package_show", "admin", id="registered-data").json()["result"]
    assert (shown["legal_basis"], shown["steward"], shown["access_level"], shown["grounds"]) == ("", "", "open", [])
    assert not [e for e in shown.get("extras", []) if e["key"] in ("legal_basis", "steward") and e["value"]]
