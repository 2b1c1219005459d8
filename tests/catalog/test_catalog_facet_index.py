"""The in-memory facet index gives exactly what plain SQL gives: counts, facet counts and page order,
for every kind of caller, with and without q/fq, and after writes change the catalogue."""

from __future__ import annotations

import random
from typing import Any

import pytest

from urbanos.catalog import search as S
from urbanos.catalog import writes
from urbanos.catalog.index import RANK_WEIGHTS
from urbanos.catalog.model import FACET_FIELDS, FACET_TABLE_FIELDS
from urbanos.core.time import now_stored
from urbanos.governance import ADMIN, ANONYMOUS, Identity, Membership

GRANTEE = Identity(subject="user:grantee", kind="token", memberships=frozenset({Membership("reader")}), name="grantee")
CALLERS = {
    "anonymous": ANONYMOUS,
    "admin": ADMIN,
    "registered": Identity(subject="user:reader", kind="token", memberships=frozenset({Membership("reader")}), name="reader"),
    "member-org-1": Identity(subject="user:m1", kind="token", memberships=frozenset({Membership("reader", "org-1")}), name="m1"),
    "steward-org-2": Identity(subject="oidc:s2", kind="oidc", memberships=frozenset({Membership("steward", "org-2")})),
    "grantee": GRANTEE,
}
QUERIES = [
    {},
    {"q": "river"},
    {"q": "river OR park", "fq": "tags:alpha"},
    {"fq": "access_level:internal"},
    {"fq": "-tags:beta AND res_format:CSV"},
    {"q": "park", "include_private": False},
    {"fq": "organization:org-1 OR frequency:DAILY"},
]
SORTS = [None, "name asc", "title desc, metadata_modified asc", "metadata_created desc", "score asc, title asc"]


def _load(platform: Any, seed: int) -> None:
    rnd = random.Random(seed)

    def tx(c: Any) -> None:
        for i in range(3):
            if not c.fetchone("SELECT 1 FROM organizations WHERE name = ?", (f"org-{i}",)):
                writes.organization_create(c, ADMIN, {"name": f"org-{i}", "title": f"Org {i}"})
        for i in range(40):
            level = rnd.choice(["open", "open", "registered", "internal", "confidential"])
            writes.package_write(c, platform.gate, ADMIN, {
                "name": f"ds-{seed}-{i:02d}", "title": rnd.choice(["River levels", "Park trees", "Same title", f"Data {i}"]),
                "owner_org": rnd.choice(["org-0", "org-1", "org-2"]), "access_level": level,
                "grounds": [] if level == "open" else [rnd.choice(["security", "not-yet-processed"])],
                "notes": " ".join(rnd.sample(["river", "park", "noise", "bus", "tree", "water"], 3)),
                "tags": rnd.sample(["alpha", "beta", "gamma", "delta"], rnd.randint(0, 3)),
                "theme": rnd.sample(["TRAN", "ENVI", "mobility"], rnd.randint(0, 2)),
                "license_id": rnd.choice(["CC-BY-4.0", "CC0-1.0", ""]), "frequency": rnd.choice(["DAILY", "MONTHLY", ""]),
                "resources": [{"url": f"https://example.org/{seed}/{i}/{k}", "format": rnd.choice(["CSV", "JSON", "csv", "PDF"])}
                              for k in range(rnd.randint(0, 2))],
            }, mode="create")
        granted = c.fetchval("SELECT id FROM datasets WHERE access_level = 'confidential' ORDER BY id LIMIT 1")
        if granted is not None:
            c.execute("INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, ?, ?)"
                      " ON CONFLICT DO NOTHING", (granted, GRANTEE.subject, now_stored()))

    platform.db.write_sync(tx)


def _reference(c: Any, gate: Any, identity: Identity, *, q: str = "", fq: str = "", include_private: bool = True,
               sort: str | None = None) -> tuple[int, dict[str, dict[str, int]], list[int]]:
    """Count, facet counts and page order straight from SQL, GROUP BY and ORDER BY."""
    comp = S.Compiler(c.dialect.name)
    acc, params = gate.dataset_row_filter(identity, "d")
    where = ["d.state = 'active'", acc]
    if not include_private:
        where.append("d.access_level = 'open'")
    for text in (q, fq):
        if text:
            sql, p = comp.compile(S.parse(text))
            where.append(sql)
            params = [*params, *p]
    wsql = " AND ".join(where)
    count = int(c.fetchval(f"SELECT COUNT(*) FROM datasets d WHERE {wsql}", params))
    facets: dict[str, dict[str, int]] = {f: {} for f in FACET_FIELDS}
    for f, col in (("organization", "d.owner_org"), ("access_level", "d.access_level")):
        facets[f] = {str(v): int(n) for v, n in c.fetchall(
            f"SELECT {col}, COUNT(*) FROM datasets d WHERE {wsql} AND {col} IS NOT NULL GROUP BY {col}", params)}
    for f, v, n in c.fetchall(
            "SELECT f.field, f.value, COUNT(*) FROM catalog_facets f JOIN datasets d ON d.id = f.dataset_id"
            f" WHERE {wsql} GROUP BY f.field, f.value", params):
        if f in FACET_TABLE_FIELDS:
            facets[f][v] = int(n)
    rank = comp.rank_query()
    join, jparams, order_sql = "", [], []
    for col, _f, direction in S.parse_sort(sort):
        if col is None:
            if rank is None:
                continue
            if c.dialect.name == "sqlite":
                join = (f"LEFT JOIN (SELECT rowid AS rid, bm25(catalog_fts, {', '.join(map(str, RANK_WEIGHTS))}) AS score"
                        " FROM catalog_fts WHERE catalog_fts MATCH ?) r ON r.rid = d.id")
                jparams = [rank]
            else:
                join = ("LEFT JOIN (SELECT dataset_id AS rid, ts_rank_cd(tsv, CAST(? AS tsquery)) AS score"
                        " FROM catalog_search WHERE tsv @@ CAST(? AS tsquery)) r ON r.rid = d.id")
                jparams = [rank, rank]
            better_first = (direction == "desc") != (c.dialect.name == "sqlite")
            order_sql.append(f"COALESCE(r.score, 0) {'DESC' if better_first else 'ASC'}")
        else:
            order_sql.append(f"{col} {direction.upper()}")
    order_sql.append("d.id ASC")
    ids = [int(r[0]) for r in c.fetchall(
        f"SELECT d.id FROM datasets d {join} WHERE {wsql} ORDER BY {', '.join(order_sql)}", [*jparams, *params])]
    return count, facets, ids


def _compare(platform: Any) -> int:
    svc = platform.services["catalog"]
    checked = 0
    for who, identity in CALLERS.items():
        for query in QUERIES:
            for sort in SORTS:
                def tx(c: Any, identity: Identity = identity, query: dict[str, Any] = query, sort: str | None = sort,
                       who: str = who) -> None:
                    count, facets, order = _reference(c, platform.gate, identity, sort=sort, **query)
                    got = svc.search_sync(c, identity, facet_fields=FACET_FIELDS, facet_limit=-1, rows=1000, sort=sort,
                                          ids_only=True, **query)
                    assert got["count"] == count, (who, query)
                    assert got["facets"] == facets, (who, query)
                    assert got["results"] == order, (who, query, sort)
                    page = svc.search_sync(c, identity, rows=7, start=5, sort=sort, ids_only=True, **query)
                    assert page["results"] == order[5:12], (who, query, sort)
                platform.db.read_sync(tx)
                checked += 1
    return checked


def _set_level(c: Any, name: str, level: str) -> None:
    ds = c.fetchval("SELECT id FROM datasets WHERE name = ?", (name,))
    c.execute("UPDATE datasets SET access_level = ?, modified_at = ? WHERE id = ?", (level, now_stored(), ds))
    c.execute("INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, ?, ?)"
              " ON CONFLICT DO NOTHING", (ds, GRANTEE.subject, now_stored()))


@pytest.mark.parametrize("cache", [True, False])
def test_facet_index_matches_sql(platform: Any, cache: bool) -> None:
    svc = platform.services["catalog"]
    if not cache:
        svc.search.cache_size = 0
    _load(platform, 1)
    assert _compare(platform) == len(CALLERS) * len(QUERIES) * len(SORTS)

    # writes move the catalogue version: the index is brought up to date from the changed datasets
    def change(c: Any) -> None:
        names = [r[0] for r in c.fetchall("SELECT name FROM datasets ORDER BY id LIMIT 6")]
        writes.package_delete(c, platform.gate, ADMIN, names[0], purge=False)
        writes.package_write(c, platform.gate, ADMIN, {"id": names[3], "title": "Renamed river", "owner_org": "org-2",
                                              "tags": ["omega"], "access_level": "internal", "grounds": ["security"]},
                             mode="update")
        _set_level(c, names[2], "confidential")

    platform.db.write_sync(change)
    _load(platform, 2)
    _compare(platform)

    # a purge: the index is built again from scratch
    platform.db.write_sync(lambda c: writes.package_delete(
        c, platform.gate, ADMIN, c.fetchval("SELECT name FROM datasets ORDER BY id LIMIT 1 OFFSET 4"), purge=True))
    _compare(platform)


def test_incremental_update_equals_full_build(platform: Any) -> None:
    from urbanos.catalog.facetindex import FacetIndex, catalogue_version

    _load(platform, 4)
    before = platform.db.read_sync(lambda c: FacetIndex.build(c, catalogue_version(c)))

    def change(c: Any) -> None:
        names = [r[0] for r in c.fetchall("SELECT name FROM datasets ORDER BY id LIMIT 3")]
        writes.package_delete(c, platform.gate, ADMIN, names[0], purge=False)
        writes.package_write(c, platform.gate, ADMIN, {"id": names[1], "owner_org": "org-0", "tags": ["new-tag"],
                                              "resources": [{"url": "https://example.org/x", "format": "GPKG"}]},
                             mode="update")

    platform.db.write_sync(change)
    _load(platform, 5)

    def check(c: Any) -> None:
        version = catalogue_version(c)
        inc = before.updated(c, version)
        assert inc is not None  # no purge, few changes: no full build
        full = FacetIndex.build(c, version)
        assert sorted(inc.ids.tolist()) == sorted(full.ids.tolist())
        def counts(ix: FacetIndex, mask: Any) -> dict[str, list[tuple[str, int]]]:
            return {f: sorted(v) for f, v in ix.counts(mask, FACET_FIELDS).items()}

        assert counts(inc, inc.active) == counts(full, full.active)
        for level in ("open", "registered", "internal", "confidential"):
            assert counts(inc, inc.active & inc.level_mask(level)) == counts(full, full.active & full.level_mask(level))
        assert inc.page(c, inc.active, [("d.title", "asc")], None, 0, 1000) == full.page(c, full.active, [("d.title", "asc")], None, 0, 1000)
    platform.db.read_sync(check)

    platform.db.write_sync(lambda c: writes.package_delete(
        c, platform.gate, ADMIN, c.fetchval("SELECT name FROM datasets ORDER BY id LIMIT 1 OFFSET 3"), purge=True))
    assert platform.db.read_sync(lambda c: before.updated(c, catalogue_version(c))) is None  # purged: full build


def test_hidden_datasets_never_counted(platform: Any) -> None:
    """A dataset the caller may not see contributes to no count and no facet, even through fq on its values."""
    _load(platform, 3)
    svc = platform.services["catalog"]

    def tx(c: Any) -> None:
        hidden = {r[0] for r in c.fetchall("SELECT name FROM datasets WHERE access_level <> 'open'")}
        assert hidden
        res = svc.search_sync(c, ANONYMOUS, fq="access_level:internal OR access_level:confidential",
                              facet_fields=FACET_FIELDS, rows=100)
        assert res["count"] == 0 and res["results"] == []
        assert all(not v for v in res["facets"].values())
        res = svc.search_sync(c, ANONYMOUS, facet_fields=["access_level", "grounds"], rows=1000)
        assert res["facets"]["access_level"].keys() == {"open"} and res["facets"]["grounds"] == {}
        assert not hidden & {p["name"] for p in res["results"]}

    platform.db.read_sync(tx)
