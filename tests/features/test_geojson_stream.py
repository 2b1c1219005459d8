"""Streaming GeoJSON: the chunked scanner gives what ``orjson.loads`` gives (real files, generated documents,
chunk boundaries at every position), refuses exactly what orjson refuses, and the reader built on it keeps
the whole-document reader's results with bounded memory."""

from __future__ import annotations

import io
import json
import random
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SQLITE_RUN_ONLY
from tests.features.import_samples import BEZIRKE, STADTTEILE
from urbanos.errors import ValidationFailed
from urbanos.features.importers._geojson_stream import GeoJSONSyntaxError, iter_features, load
from urbanos.features.importers.readers import open_source, read_geojson

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WS = ["", " ", "\n", "\t", "\r\n", "  \n\t "]


def stream_load(data: bytes, chunk: int) -> Any:
    return load(io.BytesIO(data), chunk)


def reference(data: bytes) -> Any:
    """What the streaming loader must give: orjson's document (None for a valid non-object document)."""
    doc = orjson.loads(data)
    return doc if isinstance(doc, dict) else None


def dump(value: Any, rnd: random.Random) -> str:
    """JSON text with random whitespace between tokens and random (valid) escaping in strings."""
    ws = lambda: rnd.choice(WS)  # noqa: E731
    if isinstance(value, dict):
        items = [ws() + dump(str(k), rnd) + ws() + ":" + ws() + dump(v, rnd) + ws() for k, v in value.items()]
        return "{" + (",".join(items) if items else ws()) + "}"
    if isinstance(value, list):
        items = [ws() + dump(v, rnd) + ws() for v in value]
        return "[" + (",".join(items) if items else ws()) + "]"
    if isinstance(value, str):
        s = json.dumps(value, ensure_ascii=rnd.random() < 0.5)
        return s.replace("/", "\\/") if rnd.random() < 0.5 else s
    return json.dumps(value)


def document(members: list[tuple[str, Any]], rnd: random.Random) -> bytes:
    ws = lambda: rnd.choice(WS)  # noqa: E731
    body = ",".join(ws() + dump(k, rnd) + ws() + ":" + ws() + dump(v, rnd) + ws() for k, v in members)
    return (ws() + "{" + body + "}" + ws()).encode()


KEYS = st.sampled_from(["a", "name", "x y", 'q"uote', "br]ack{et", "back\\slash", "ünï", "", "features", "\n"])
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=12) | st.sampled_from(['"]}', '\\"', "},{", "[[", "\\", "\u2028", "😀", "{\"a\": 1}"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
                      max_leaves=12)
GEOMETRY = st.none() | st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]},
                                 st.floats(-180, 180), st.floats(-90, 90))
FEATURE = st.builds(lambda props, geom, fid: {"type": "Feature", "id": fid, "properties": props, "geometry": geom},
                    st.dictionaries(KEYS, VALUES, max_size=5), GEOMETRY, st.integers(0, 10**6) | st.text(max_size=4))
ELEMENT = st.one_of(FEATURE, FEATURE, FEATURE, VALUES)
CRS = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    members: list[tuple[str, Any]] = [("type", "FeatureCollection"), ("features", draw(st.lists(ELEMENT, max_size=6)))]
    if draw(st.booleans()):
        members.append(("crs", CRS))
    members += draw(st.lists(st.tuples(KEYS, VALUES), max_size=2))
    members = draw(st.permutations(members))
    return document(members, random.Random(draw(st.integers(0, 2**32))))


# -- equality with orjson ------------------------------------------------------------------------

@pytest.mark.parametrize("path,chunks", [(BEZIRKE, (7, 64, 4096, 1 << 20)), (STADTTEILE, (61, 4096, 1 << 20))])
def test_real_files_equal_orjson(path: Path, chunks: tuple[int, ...]) -> None:
    data = path.read_bytes()
    expected = orjson.loads(data)
    for chunk in chunks:
        assert stream_load(data, chunk) == expected
        with open(path, "rb") as fh:
            assert list(iter_features(fh, chunk)) == expected["features"]


@FUZZ
@given(documents(), st.integers(1, 7))
def test_generated_documents_equal_orjson(data: bytes, chunk: int) -> None:
    assert stream_load(data, chunk) == reference(data)
    assert stream_load(data, 1 << 20) == reference(data)


def test_chunk_boundary_at_every_position() -> None:
    feats = [{"type": "Feature", "properties": {"s": 'a"]}{[,\\', "u": "é😀\u2028", "n": [{"x": {}}, []], "e": ""},
              "geometry": {"type": "Point", "coordinates": [9.9, 53.5]}}, [1, [2]], "x", 3.5e-7, None, {}]
    data = json.dumps({"crs": CRS, "features": feats, "type": "FeatureCollection"}, ensure_ascii=False).encode()
    data = data.replace(b", ", b" ,\n\t")
    for chunk in range(1, len(data) + 2):
        assert stream_load(data, chunk) == orjson.loads(data), chunk


def test_members_in_any_order_and_repeated_features_member() -> None:
    one = b'{"features": [{"a": 1}], "crs": {"x": 1}, "type": "FeatureCollection", "features": [2, 3]}'
    assert stream_load(one, 3) == orjson.loads(one) == {"features": [2, 3], "crs": {"x": 1}, "type": "FeatureCollection"}
    two = b'{"features": [1], "features": null}'
    assert stream_load(two, 2) == orjson.loads(two)
    assert stream_load(b" [1, {}] ", 1) is None and stream_load(b'"s"', 1) is None and stream_load(b"{}", 1) == {}


# -- refusals ------------------------------------------------------------------------------------

def test_every_truncation_is_refused(tmp_path: Path) -> None:
    data = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"s": 'a"]}{', "n": [1, {"b": None}]}, "geometry": None}, 7]}).encode()
    path = tmp_path / "cut.geojson"
    for cut in range(len(data)):
        for chunk in (1, 5, 1 << 20):
            with pytest.raises(GeoJSONSyntaxError):
                stream_load(data[:cut], chunk)
        path.write_bytes(data[:cut])
        with pytest.raises(ValidationFailed) as exc:
            open_source(str(path))
        assert exc.value.message.startswith("cannot read the GeoJSON file: ")


MUTATIONS = st.sampled_from([b"", b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b" ", b"x", b"1", b"\xff", b"\x00",
                             b"\x1e", b"nul", b"-", b"\xc3"])


@FUZZ
@given(documents(), st.integers(0, 10**6), st.integers(0, 3), MUTATIONS, st.integers(1, 7))
def test_mutated_documents_are_refused_exactly_when_orjson_refuses(data: bytes, at: int, drop: int, insert: bytes,
                                                                   chunk: int) -> None:
    at %= len(data) + 1
    bad = data[:at] + insert + data[at + drop:]
    try:
        expected = reference(bad)
    except orjson.JSONDecodeError:
        with pytest.raises(GeoJSONSyntaxError):
            stream_load(bad, chunk)
    else:
        assert stream_load(bad, chunk) == expected


def test_error_names_line_column_and_byte(tmp_path: Path) -> None:
    data = b'{"type": "FeatureCollection",\n "features": [\n  {"type": "Feature", "properties": {"a": 1,}}\n]}'
    with pytest.raises(GeoJSONSyntaxError) as exc:
        stream_load(data, 4)
    assert (exc.value.line, exc.value.column, exc.value.pos) == (3, 44, 88) and data[88:89] == b","
    path = tmp_path / "bad.geojson"
    path.write_bytes(data)
    with pytest.raises(ValidationFailed) as vf:
        open_source(str(path))
    assert "not valid JSON" in vf.value.message and "line 3, column 44" in vf.value.message and "Fix:" in vf.value.message


@pytest.mark.parametrize("content,why", [
    (b'{"type": "Point", "coordinates": [1, 2]}', "is not a FeatureCollection or Feature"),
    (b'{"type": "Feature", "properties": {}, "geometry": null}\n{"type": "Feature", "properties": {}, "geometry": null}\n',
     "not valid JSON"),
    (b'\x1e{"type": "Feature", "properties": {}, "geometry": null}\n', "not valid JSON"),
    (b'[{"type": "Feature"}]', "the top level is not a JSON object"),
    (b'{"type": "FeatureCollection", "features": {}}', "no features array"),
    (b'{"type": "FeatureCollection"}', "no features array"),
    (b'{"type": "FeatureCollection", "features": [], "features": 1}', "no features array"),
    (b"", "not valid JSON"),
    (b"\xef\xbb\xbf{}", "not valid JSON"),
])
def test_documents_the_reader_refuses_as_before(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "x.geojson"
    path.write_bytes(content)
    with pytest.raises(ValidationFailed) as exc:
        open_source(str(path))
    assert why in exc.value.message


# -- the reader ----------------------------------------------------------------------------------

def _snapshot(src: Any) -> tuple[Any, ...]:
    rows = [(r.row, r.properties, None if r.geometry is None else r.geometry.wkb, r.fid) for r in src.rows()]
    return (src.fields, src.geometry_type, src.source_crs, src.count, src.info, rows, list(src.errors))


@pytest.mark.parametrize("path", [BEZIRKE, STADTTEILE])
def test_reader_result_does_not_depend_on_the_chunk_size(path: Path) -> None:
    assert _snapshot(read_geojson(str(path), {}, chunk_size=97)) == _snapshot(open_source(str(path)))


def test_crs_after_the_features_and_the_last_features_member(tmp_path: Path) -> None:
    feature = {"type": "Feature", "properties": {"a": 1}, "geometry": {"type": "Point", "coordinates": [565000, 5933000]}}
    text = ('{"features": [{"type": "Feature", "properties": {"old": "x"}, "geometry": null}], "type": "FeatureCollection",'
            f' "features": [{json.dumps(feature)}, {{"type": "Nope"}}], "crs": {json.dumps(CRS)}}}')
    path = tmp_path / "late.geojson"
    path.write_text(text)
    for chunk in (3, 1 << 20):
        src = read_geojson(str(path), {}, chunk_size=chunk)
        rows = list(src.rows())
        assert src.source_crs == "EPSG:25832" and src.count == 2 and [f.name for f in src.fields] == ["a"]
        assert len(rows) == 1 and rows[0].properties == {"a": 1} and rows[0].geometry.x == pytest.approx(9.9809, abs=1e-3)
        assert [(e.row, e.reason) for e in src.errors] == [(2, "not a GeoJSON Feature")]


def test_a_single_feature_document(tmp_path: Path) -> None:
    path = tmp_path / "one.geojson"
    path.write_text('{"properties": {"n": 2}, "geometry": {"type": "Point", "coordinates": [10, 53]}, "type": "Feature"}')
    src = open_source(str(path))
    (row,) = list(src.rows())
    assert src.count == 1 and src.geometry_type == "Point" and row.properties == {"n": 2}


def test_streaming_memory_is_bounded(tmp_path: Path) -> None:
    """About 8 MB of features: peak Python allocations while streaming stay far below the file's size
    (decoding it whole allocates several times its size)."""
    path = tmp_path / "big.geojson"
    rnd = random.Random(7)
    with open(path, "w") as fh:
        fh.write('{"type": "FeatureCollection", "features": [')
        for i in range(50_000):
            fh.write(("," if i else "") + json.dumps({"type": "Feature", "id": i, "properties": {
                "name": f"n{i}", "v": rnd.random()}, "geometry": {"type": "Point", "coordinates": [rnd.random(), 53.5]}}))
        fh.write('], "crs": {"type": "name", "properties": {"name": "EPSG:4326"}}}')
    size = path.stat().st_size
    assert size > 7_000_000
    tracemalloc.start()
    try:
        with open(path, "rb") as fh:
            n = sum(1 for _ in iter_features(fh, 64 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 50_000 and peak < size // 4, peak
