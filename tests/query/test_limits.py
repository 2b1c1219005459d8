"""Text bounds measured before a recursive parser sees the text: SQL for sqlglot (DataStore SQL), WKT for GEOS
(OData geography literals), and the OData parser's own depth limit on every nesting form."""

from __future__ import annotations

from typing import Any

import pytest

from urbanos.query import limits
from urbanos.query.odata import parse_filter

REFUSED_SQL = {
    "parentheses": "SELECT " + "(" * 30 + "1" + ")" * 30 + " FROM x",
    "functions": "SELECT " + "abs(" * 30 + "1" + ")" * 30 + " FROM x",
    "case": "SELECT " + "CASE WHEN a THEN " * 30 + "1" + " END" * 30 + " FROM x",
    "not": "SELECT a FROM x WHERE " + "NOT " * 30 + "a",
    "signs": "SELECT " + "- " * 30 + "1 FROM x",
    "subqueries": "SELECT a FROM " + "(SELECT a FROM " * 30 + "x" + ") s" * 30,
    "arrays": "SELECT " + "ARRAY[" * 7 + "1" + "]" * 7 + " FROM x",  # parsing time grows 4-fold per level
}

ACCEPTED_SQL = [
    "SELECT a, b FROM x WHERE (a > 1 AND (b < 2 OR b IS NULL)) ORDER BY a",
    "WITH t AS (SELECT a FROM x) SELECT COUNT(*) FROM t WHERE a IN (SELECT a FROM x WHERE a > -1)",
    "SELECT CASE WHEN a > 1 THEN 'big' ELSE 'small' END FROM x",
    "SELECT '((((((((((((((((((((((((((((((((((' FROM x -- ((((((((((((((((((((((((((((((((",
    "SELECT a FROM x WHERE b = 'it''s' AND c = ARRAY[1, 2, 3]",
    "SELECT " + " + ".join(["a"] * 2000) + " FROM x",
]


@pytest.mark.parametrize("name", sorted(REFUSED_SQL))
def test_sql_over_the_bounds(name: str) -> None:
    problem = limits.sql_problem(REFUSED_SQL[name])
    assert problem is not None and "the limit is" in problem


@pytest.mark.parametrize("sql", ACCEPTED_SQL, ids=lambda s: s[:30])
def test_sql_within_the_bounds_parses(sql: str) -> None:
    import sqlglot

    assert limits.sql_problem(sql) is None
    assert sqlglot.parse(sql, read="postgres")


def test_sql_at_the_nesting_limit_parses_without_recursion_error() -> None:
    import sqlglot

    sql = "SELECT " + "abs(" * (limits.SQL_MAX_NESTING - 1) + "1" + ")" * (limits.SQL_MAX_NESTING - 1) + " FROM x"
    assert limits.sql_problem(sql) is None
    tree = sqlglot.parse_one(sql, read="postgres")
    assert tree.sql(dialect="postgres")
    assert limits.sql_problem("SELECT " + "(" * 100_000 + "1 FROM x") is not None  # unbalanced: measured all the same


def test_wkt_nesting() -> None:
    assert limits.wkt_problem("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((2 2, 3 2, 3 3, 2 2)))") is None
    deep = "GEOMETRYCOLLECTION (" * 20 + "POINT (1 1)" + ")" * 20
    assert "the limit is 16" in (limits.wkt_problem(deep) or "")


def test_geography_literals_are_bounded(client: Any) -> None:
    deep = "GEOMETRYCOLLECTION(" * 200 + "POINT(1 1)" + ")" * 200
    r = client.get("/sta/v1.1/Things", params={"$filter": f"st_within(Locations/location, geography'{deep}')"})
    assert r.status_code == 400, r.text[:300]
    assert "the limit is 16" in r.json()["message"]


@pytest.mark.parametrize("text", [
    "(" * 5000 + "id gt 0" + ")" * 5000,
    "not " * 5000 + "id gt 0",
    "id gt " + "-" * 5000 + "1",
    "id gt " + "length(" * 3000 + "'a'" + ")" * 3000,
], ids=["parentheses", "not", "signs", "functions"])
def test_odata_nesting_is_a_400(client: Any, text: str) -> None:
    with pytest.raises(Exception) as info:
        parse_filter(text)
    assert getattr(info.value, "status", None) == 400
    r = client.get("/sta/v1.1/Things", params={"$filter": text})
    assert r.status_code == 400 and "nested more than" in r.json()["message"]


def test_odata_digits_are_ascii() -> None:
    for text in ["result eq ١٢", "result eq 1٢", "phenomenonTime gt datetime'2024-01-01²00:00:00Z'",
                 "time(phenomenonTime) eq time'١٢:٠٠'", "phenomenonTime gt ٢٠٢٤-01-01T00:00:00Z"]:
        with pytest.raises(Exception) as info:
            parse_filter(text)
        assert getattr(info.value, "status", None) == 400, text
    assert parse_filter("result eq 12") is not None
