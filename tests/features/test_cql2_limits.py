"""CQL2 filters are bounded on their text before the native parser sees them: a filter nested deep enough to
overflow the parser's stack (which killed the server process) is a 400 naming the limit, and the server lives on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from urbanos.features.ogcapi import cql2
from urbanos.query import limits

# Each of these overflowed the 8 MiB stack of the thread that parses the filter (the process died with SIGSEGV).
DEADLY = {
    "parentheses": "(" * 1600 + "pop > 1" + ")" * 1600,
    "signs": "pop > " + "-" * 8000 + "1",
    "brackets": "A_EQUALS(tags, " + "(" * 1600 + "1" + ")" * 1600 + ")",
    "functions": "pop > " + "abs(" * 3200 + "1" + ")" * 3200,
    "arithmetic chain": "pop > " + "+".join(["1"] * 9900),
}


def _import_places(db_url: str, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    src = data_dir.parent / "places.geojson"
    src.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"p{i}", "pop": i}, "geometry": {"type": "Point", "coordinates": [10 + i / 10, 53]}}
        for i in range(5)]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    env["URBANOS_MQTT_PORT"] = "0"
    cmd = [sys.executable, "-m", "urbanos.cli.main", "import", str(src), "--dataset", "places", "--db", db_url,
           "--data-dir", str(data_dir)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_filter_that_crashed_the_server_is_refused_and_the_server_lives(tmp_path: Path, db_url: str) -> None:
    from tests.conftest import start_server

    data_dir = tmp_path / "live"
    _import_places(db_url, data_dir)
    server = start_server(data_dir, db_url)
    try:
        items = f"{server.url}/ogcapi/collections/places/items"
        ok = httpx.get(items, params={"filter": "(" * 60 + "pop > 1" + ")" * 60}, timeout=30)
        assert ok.status_code == 200, ok.text
        assert ok.json()["numberReturned"] == 3
        for name, text in DEADLY.items():
            r = httpx.get(items, params={"filter": text}, timeout=60)
            assert r.status_code == 400, (name, r.status_code, r.text[:300])
            body = r.json()
            assert body["code"] == "InvalidParameterValue", body
            assert "the limit is" in body["description"], body
            assert server.proc.poll() is None, f"the server died on the {name} filter"
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
        after = httpx.get(items, params={"filter": "pop > 1"}, timeout=30)
        assert after.status_code == 200 and after.json()["numberReturned"] == 3
    finally:
        server.stop()


@pytest.mark.parametrize("name", sorted(DEADLY))
def test_deadly_shapes_are_refused_before_the_parser(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import cql2 as cql2lib

    def never(*_a: Any) -> Any:
        raise AssertionError("the native parser was called")

    monkeypatch.setattr(cql2lib, "parse_text", never)
    with pytest.raises(Exception) as info:
        cql2.parse(DEADLY[name], "cql2-text")
    assert info.value.status == 400  # type: ignore[attr-defined]
    assert info.value.code == "InvalidParameterValue"  # type: ignore[attr-defined]
    assert "the limit is" in info.value.message  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [
    "(" * 60 + "pop > 1" + ")" * 60,
    "NOT (NOT (pop > 1))",
    "pop NOT IN (-1, -2, -3) AND name IS NOT NULL AND name NOT LIKE 'a(((('",
    "S_INTERSECTS(geometry, POLYGON((" + ", ".join(f"-{i}.5 -{i}.25" for i in range(1, 400)) + ", -1.5 -1.25)))",
    "S_INTERSECTS(geometry, BBOX(-10, -20, 10, 20))",
    "pop = -1 - -1",
    "pop > 1e-5 AND pop < 1E+5",
    "\"na(me\" = 'x'",
    " OR ".join(f"pop = {i}" for i in range(1000)),
    "pop IN (" + ",".join(str(-i) for i in range(3000)) + ")",
], ids=lambda text: text[:30])
def test_ordinary_filters_pass_the_bounds(text: str) -> None:
    assert limits.cql2_text_problem(text) is None


def test_the_measures() -> None:
    assert limits.cql2_text_shape("((a = 1))").nesting == 2
    assert limits.cql2_text_shape("NOT NOT NOT a").nesting == 3
    assert limits.cql2_text_shape("NOT (NOT (a))").nesting == 4
    assert limits.cql2_text_shape("a = 1 - 2 * 3").operators == 2
    assert limits.cql2_text_shape("S_INTERSECTS(g, POINT(-1 -2))").operators == 0
    assert limits.cql2_text_shape("name = ')))' AND ((a = 1))").nesting == 2
    assert limits.cql2_text_shape("name = 'it''s ((('").nesting == 0
    assert limits.cql2_text_shape("name = 'open").unclosed == 7


def test_an_unclosed_quote_is_named() -> None:
    with pytest.raises(Exception) as info:
        cql2.parse("name = 'abc", "cql2-text")
    assert "not closed" in info.value.message  # type: ignore[attr-defined]


def test_cql2_json_nesting_is_bounded_before_parsing(client: Any, platform: Any, fx: Any) -> None:
    fx.add_points(platform)
    deep: Any = {"op": "=", "args": [{"property": "pop"}, 1]}
    for _ in range(60):
        deep = {"op": "not", "args": [deep]}
    r = client.get("/ogcapi/collections/places/items", params={"filter": orjson.dumps(deep).decode(), "filter-lang": "cql2-json"})
    assert r.status_code == 400
    assert r.json()["code"] == "InvalidParameterValue"
    assert "the limit is 100" in r.json()["description"]
    # deeper than orjson's own limit, and malformed at the end: still the nesting message
    text = "[" * 5000
    r = client.get("/ogcapi/collections/places/items", params={"filter": text, "filter-lang": "cql2-json"})
    assert r.status_code == 400 and "the limit is 100" in r.json()["description"]
    shallow = {"op": "and", "args": [{"op": ">", "args": [{"property": "pop"}, 10]}, {"op": "<", "args": [{"property": "pop"}, 50]}]}
    r = client.get("/ogcapi/collections/places/items", params={"filter": orjson.dumps(shallow).decode(), "filter-lang": "cql2-json"})
    assert r.status_code == 200, r.text


def test_json_nesting_skips_strings() -> None:
    assert limits.json_nesting(b'{"a": [1, {"b": "[[[[\\"]]]"}]}') == 3
    assert limits.json_nesting("[" * 2000) == 2000
    assert limits.json_nesting('"unterminated [[[') == 0
