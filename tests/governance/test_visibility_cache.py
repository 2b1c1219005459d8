"""The gate's visibility cache: the datasets each kind of caller may read, kept per stamp of the access tables.

The next read after any change of ``datasets``, ``dataset_grants`` or a membership follows it, in the process
that made the change and in another one on the same database; the lists agree with ``can_read``; the statement
of a whole set of Observations keeps the admin's plan."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, api_token
from tests.sensing.sta_helpers import Sta, thing
from urbanos.governance import ANONYMOUS, Identity, Membership
from urbanos.governance.visibility import STAMP_SQL, Visibility
from urbanos.sensing.access import visibility
from urbanos.sensing.model import ENTITIES

NOW = "2024-01-01T00:00:00Z"
LEVELS = ("open", "registered", "internal", "confidential")
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _dataset(c: Any, name: str, level: str, org: str | None = "city") -> int:
    return int(c.insert("datasets", {"name": name, "title": name, "owner_org": org, "access_level": level,
                                     "created_at": NOW, "modified_at": NOW}))


def _stamp(platform: Any) -> int:
    return int(platform.db.read_sync(lambda c: c.fetchval(STAMP_SQL)))


def _world(sta: Sta, platform: Any) -> dict[str, Any]:
    """A Thing (one Datastream, two Observations) in a dataset of each access level, and one in none."""
    ds = platform.db.write_sync(lambda c: {lv: _dataset(c, f"ds-{lv}", lv) for lv in LEVELS})
    streams: dict[str, int] = {}
    for level in (*LEVELS, "none"):
        body = thing(f"T-{level}", **({"dataset_id": ds[level]} if level != "none" else {}))
        tid = sta.create("/Things", body)["@iot.id"]
        streams[level] = sta.ok(f"/Things({tid})/Datastreams", sta.h)["value"][0]["@iot.id"]
        for i in range(2):
            sta.observe(streams[level], i, f"2024-01-0{i + 1}T00:00:00Z")
    return {"datasets": ds, "streams": streams}


def _seen(get: Callable[..., Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """What a caller sees: Thing names, the Observation count, and the Datastreams with expanded Observations."""
    def body(path: str) -> Any:
        r = get("/sta/v1.1" + path, headers=headers or {})
        assert r.status_code == 200, r.text
        return r.json()

    things = {t["name"] for t in body("/Things")["value"]}
    n_obs = body("/Observations?$count=true&$top=1")["@iot.count"]
    expanded = {d["name"]: len(d["Observations"]) for d in body("/Datastreams?$expand=Observations($top=5)")["value"]}
    return {"things": things, "observations": n_obs, "expanded": expanded}


def _levels(*levels: str) -> dict[str, Any]:
    """What a caller who may read the datasets of ``levels`` (and the Thing in none) sees in ``_world``."""
    names = {f"T-{lv}" for lv in (*levels, "none")}
    return {"things": names, "observations": 2 * len(names),
            "expanded": {f"{n} count": 2 for n in names}}


# -- the lists ---------------------------------------------------------------------------------------------------

def test_lists_and_their_complements_over_the_datasets_table(platform: Any) -> None:
    ids = platform.db.write_sync(lambda c: [_dataset(c, f"d{i}", "open") for i in range(5)])
    few_hidden = Visibility(1, tuple(ids[:4]), tuple(ids[4:]))  # written as NOT IN (hidden)
    few_visible = Visibility(1, tuple(ids[:1]), tuple(ids[1:]))  # written as IN (visible)
    none_visible = Visibility(1, (), tuple(ids))
    everything = Visibility(1, tuple(ids), ())
    assert "NOT IN" in few_hidden.filter("x")[0] and "NOT IN" not in few_visible.filter("x")[0]
    assert everything.everything and everything.filter("x") == ("1=1", [])

    def rows(sql: str, params: list[Any]) -> set[Any]:
        q = (f"SELECT x FROM (SELECT id AS x FROM datasets UNION ALL SELECT CAST(NULL AS BIGINT)) t WHERE {sql}")
        return platform.db.read_sync(lambda c: {r[0] for r in c.fetchall(q, params)})

    for view in (few_hidden, few_visible, none_visible, everything):
        assert rows(*view.filter("x")) == {*view.visible, None}
        assert rows(*view.hidden_filter("x")) == set(view.hidden)


IDENTITIES = {
    "anonymous": (ANONYMOUS, {"open"}),
    "registered": (Identity("token:3", "token", frozenset({Membership("reader")})), {"open", "registered"}),
    "member": (Identity("token:4", "token", frozenset({Membership("reader", "city")})),
               {"open", "registered", "internal"}),
    "granted": (Identity("token:7", "token", frozenset({Membership("reader")})), {"open", "registered", "confidential"}),
    "publisher of another": (Identity("token:8", "token", frozenset({Membership("publisher", "port")})),
                             {"open", "registered"}),
}


@pytest.mark.parametrize("who", list(IDENTITIES))
def test_filter_with_the_read_agrees_with_can_read_and_is_kept_per_stamp(platform: Any, who: str) -> None:
    ident, expected = IDENTITIES[who]

    def seed(c: Any) -> None:
        ids = {lv: _dataset(c, lv, lv) for lv in LEVELS}
        c.execute("INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, ?, ?)",
                  (ids["confidential"], "token:7", NOW))

    platform.db.write_sync(seed)
    gate = platform.gate

    def visible(c: Any) -> set[str]:
        sql, params = gate.dataset_filter(ident, "d.id", c)
        return {r[0] for r in c.fetchall(f"SELECT d.name FROM datasets d WHERE {sql}", params)}

    assert platform.db.read_sync(visible) == expected
    loads = gate.visibility_cache.loads
    assert platform.db.read_sync(visible) == expected
    assert gate.visibility_cache.loads == loads  # same stamp: the datasets are not read again
    platform.db.write_sync(lambda c: c.execute("UPDATE datasets SET access_level = 'open' WHERE name = 'internal'"))
    assert platform.db.read_sync(visible) == expected | {"internal"}
    assert gate.visibility_cache.loads == loads + 1


def test_the_stamp_moves_with_every_change_of_access_and_only_then(platform: Any) -> None:
    seen = [_stamp(platform)]

    def after(sql: str, params: tuple[Any, ...] = ()) -> bool:
        platform.db.write_sync(lambda c: c.execute(sql, params))
        seen.append(_stamp(platform))
        return seen[-1] != seen[-2]

    ds = platform.db.write_sync(lambda c: _dataset(c, "stamped", "open"))
    seen.append(_stamp(platform))
    assert seen[-1] != seen[-2]
    assert not after("UPDATE datasets SET title = 'renamed', modified_at = ? WHERE id = ?", (NOW, ds))
    assert after("UPDATE datasets SET access_level = 'internal' WHERE id = ?", (ds,))
    assert not after("UPDATE datasets SET access_level = 'internal' WHERE id = ?", (ds,))  # the same value
    assert after("UPDATE datasets SET owner_org = 'port' WHERE id = ?", (ds,))
    assert after("INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, 'token:9', ?)", (ds, NOW))
    assert after("DELETE FROM dataset_grants WHERE dataset_id = ?", (ds,))
    before = _stamp(platform)

    def fails(c: Any) -> None:
        c.execute("UPDATE datasets SET access_level = 'open' WHERE id = ?", (ds,))
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        platform.db.write_sync(fails)
    assert _stamp(platform) == before  # a rolled-back change leaves the stamp as it was
    assert after("DELETE FROM datasets WHERE id = ?", (ds,))


# -- the next read follows -----------------------------------------------------------------------------------------

def test_the_next_read_follows_access_grants_and_memberships_in_the_same_process(sta: Sta, platform: Any,
                                                                                  client: Any) -> None:
    world = _world(sta, platform)
    ds = world["datasets"]
    reader = {"Authorization": f"Bearer {api_token(client, 'reader-app')}"}
    alice = {"Authorization": f"Bearer {api_token(client, 'alice')}"}
    assert _seen(client.get) == _levels("open")
    assert _seen(client.get, reader) == _levels("open", "registered")
    platform.db.write_sync(lambda c: c.execute("UPDATE datasets SET access_level = 'open' WHERE id = ?",
                                               (ds["confidential"],)))
    assert _seen(client.get) == _levels("open", "confidential")
    platform.db.write_sync(lambda c: c.execute("UPDATE datasets SET access_level = 'confidential' WHERE id IN (?, ?)",
                                               (ds["confidential"], ds["open"])))
    assert _seen(client.get) == _levels()
    assert _seen(client.get, reader) == _levels("registered")
    subject = "token:" + reader["Authorization"].split("_")[1]
    platform.db.write_sync(lambda c: c.execute(
        "INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, ?, ?)", (ds["confidential"], subject, NOW)))
    assert _seen(client.get, reader) == _levels("registered", "confidential")
    assert _seen(client.get) == _levels()
    platform.db.write_sync(lambda c: c.execute("DELETE FROM dataset_grants WHERE subject = ?", (subject,)))
    assert _seen(client.get, reader) == _levels("registered")
    # a membership of the dataset's organisation: the internal dataset becomes readable to alice
    assert client.post("/api/3/action/organization_create", json={"name": "city"}, headers=ADMIN).status_code == 200
    assert _seen(client.get, alice) == _levels("registered")
    r = client.post("/api/3/action/member_create", headers=ADMIN,
                    json={"id": "city", "object": "alice", "object_type": "user", "capacity": "member"})
    assert r.status_code == 200, r.text
    assert _seen(client.get, alice) == _levels("registered", "internal")
    r = client.post("/api/3/action/member_delete", headers=ADMIN, json={"id": "city", "object": "alice", "object_type": "user"})
    assert r.status_code == 200, r.text
    assert _seen(client.get, alice) == _levels("registered")


def _within(seconds: float, want: dict[str, Any], look: Callable[[], dict[str, Any]]) -> None:
    """``look()`` equals ``want`` within ``seconds`` (memberships reach cached identities of another process within
    ``Gate.RECHECK_SECONDS``)."""
    start = time.monotonic()
    while (got := look()) != want:
        assert time.monotonic() - start < seconds, got
        time.sleep(0.1)


def test_another_process_follows_at_its_next_read(sta: Sta, platform: Any, db_url: str,
                                                  server_factory: Callable[..., Any]) -> None:
    world = _world(sta, platform)
    ds = world["datasets"]
    a, b = server_factory(db_url), server_factory(db_url)

    def on(server: Any) -> Callable[..., Any]:
        return lambda path, headers: httpx.get(server.url + path, headers=headers, timeout=20)

    reader = {"Authorization": f"Bearer {api_token(a.url, 'reader-app')}"}
    subject = "token:" + reader["Authorization"].split("_")[1]
    for server in (a, b):
        assert _seen(on(server)) == _levels("open")
        assert _seen(on(server), reader) == _levels("open", "registered")
    # a change made by another process (here: plain SQL from the test's own platform)
    platform.db.write_sync(lambda c: c.execute("UPDATE datasets SET access_level = 'open' WHERE id = ?",
                                               (ds["internal"],)))
    for server in (a, b):
        assert _seen(on(server)) == _levels("open", "internal")
    platform.db.write_sync(lambda c: c.execute(
        "INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, ?, ?)", (ds["confidential"], subject, NOW)))
    assert _seen(on(b), reader) == _levels("open", "registered", "internal", "confidential")
    platform.db.write_sync(lambda c: c.execute("UPDATE datasets SET access_level = 'internal' WHERE id = ?",
                                               (ds["open"],)))
    assert _seen(on(b)) == _levels("internal")  # ds-internal is open now, ds-open internal
    assert _seen(on(b), reader) == _levels("registered", "internal", "confidential")
    # a membership recorded through server a reaches the identities server b has cached
    r = httpx.post(f"{a.url}/api/3/action/organization_create", json={"name": "city"}, headers=ADMIN, timeout=20)
    assert r.status_code == 200, r.text
    r = httpx.post(f"{a.url}/api/3/action/member_create", headers=ADMIN, timeout=20,
                   json={"id": "city", "object": "reader-app", "object_type": "user", "capacity": "member"})
    assert r.status_code == 200, r.text
    _within(10, _levels(*LEVELS), lambda: _seen(on(b), reader))


# -- the statements -------------------------------------------------------------------------------------------------

def _plan(platform: Any, sql: str, params: list[Any]) -> list[str]:
    def explain(c: Any) -> list[str]:
        if c.dialect.name == "sqlite":
            return [str(r[3]) for r in c.fetchall("EXPLAIN QUERY PLAN " + sql, params)]
        return [str(r[0]) for r in c.fetchall("EXPLAIN " + sql, params)]

    return list(platform.db.read_sync(explain))


def test_whole_sets_of_observations_keep_the_admins_plan(sta: Sta, platform: Any) -> None:
    """Without statistics (a fresh database), the rule on whole sets of Observations must not lead the planner to
    read every visible Observation through the Datastream index and sort them: the plan scans in id order like the
    admin's, and only adds lists built once per statement."""
    _world(sta, platform)
    e = ENTITIES["Observation"]

    def where(c: Any) -> tuple[str, list[Any]]:
        return visibility(e, "a", platform.gate, ANONYMOUS, c=c) or ("1=1", [])

    sql, params = platform.db.read_sync(where)
    query = "SELECT a.id, a.result FROM sta_observations a WHERE {} ORDER BY a.id ASC LIMIT 1001"
    anon, admin = _plan(platform, query.format(sql), params), _plan(platform, query.format("1=1"), [])
    if platform.db.dialect.name == "sqlite":
        assert not any("TEMP B-TREE" in step or "sta_obs_ds_phen" in step for step in anon), anon
        assert [s for s in anon if s.startswith(("SCAN a", "SEARCH a"))] == [s for s in admin if s.startswith(("SCAN a", "SEARCH a"))]
    else:
        def shape(plan: list[str]) -> list[str]:
            return [s.strip().split("  (")[0].removeprefix("->  ") for s in plan
                    if "on sta_observations a" in s or s.startswith(("Limit", "Sort"))]

        assert shape(anon) == shape(admin), (anon, admin)


@pytest.mark.postgres
def test_lists_of_an_older_stamp_fall_back_to_the_rule_within_the_statement(sta: Sta, platform: Any) -> None:
    """PostgreSQL reads see every commit as it happens: lists taken at one stamp and used in a later statement, after
    a change, give way to the rule written on the tables."""
    world = _world(sta, platform)
    gate = platform.gate
    e = ENTITIES["Observation"]
    old = platform.db.read_sync(lambda c: gate.visibility(c, ANONYMOUS))
    platform.db.write_sync(lambda c: c.execute("UPDATE datasets SET access_level = 'confidential' WHERE id = ?",
                                               (world["datasets"]["open"],)))

    def count(c: Any) -> int:
        sql, params = visibility(e, "a", gate, ANONYMOUS, c=c, view=old) or ("1=1", [])
        return int(c.fetchval(f"SELECT COUNT(*) FROM sta_observations a WHERE {sql}", params))

    assert platform.db.read_sync(count) == 2  # only the Thing without dataset remains
