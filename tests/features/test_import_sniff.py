"""Fuzzing the CSV sniffer with hypothesis: arbitrary bytes never crash it, and generated tables round-trip
through encoding, delimiter and type detection."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from urbanos.errors import ValidationFailed
from urbanos.features.importers._sniff import NULLS, TypeGuess, convert, detect_delimiter, detect_encoding
from urbanos.features.importers.readers import open_source

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÄÖÜäöüßéèàç ABCXYZ.-:/()'", min_size=1, max_size=12).filter(
    lambda s: s.strip() != "" and s.strip() not in NULLS and s == s.strip())


def _write(data: bytes, suffix: str = ".csv") -> Path:
    fd = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115
    fd.write(data)
    fd.close()
    return Path(fd.name)


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    path = _write(data)
    try:
        try:
            enc = detect_encoding(data)
            assert enc in ("utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1")
        except ValidationFailed:
            pass
        try:
            src = open_source(str(path), fmt="csv")
        except ValidationFailed:
            return
        rows = list(src.rows())
        assert len(rows) + len(src.errors) <= data.count(b"\n") + data.count(b"\r") + 1
        for e in src.errors:
            assert e.row >= 2 and e.reason
    finally:
        path.unlink()


@FUZZ
@given(st.text(max_size=500))
def test_arbitrary_text_sniffs_a_known_delimiter(text: str) -> None:
    assert detect_delimiter(text) in (",", ";", "\t", "|")


@FUZZ
@given(st.lists(st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8), st.booleans()),
                max_size=30))
def test_inferred_type_converts_every_value(values: list[object]) -> None:
    g = TypeGuess()
    cells = ["" if v is None else str(v) if not isinstance(v, bool) else ("true" if v else "false") for v in values]
    for c in cells:
        g.add(c)
    kind = g.result()
    for c in cells:
        convert(kind, c)  # never raises for the inferred type (no tolerance asked)


@FUZZ
@given(
    header=st.lists(TEXT, min_size=2, max_size=5, unique_by=str.lower),
    body=st.data(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]),
)
def test_generated_tables_round_trip(header: list[str], body: st.DataObject, delimiter: str, encoding: str) -> None:
    ncols = len(header)
    rows = body.draw(st.lists(st.lists(TEXT, min_size=ncols, max_size=ncols), min_size=1, max_size=8))
    ints = body.draw(st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=len(rows), max_size=len(rows)))
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow([*header, "zahl"])
    for r, n in zip(rows, ints, strict=True):
        w.writerow([*r, str(n)])
    text = buf.getvalue()
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    path = _write(data)
    try:
        src = open_source(str(path))
        got = list(src.rows())
    finally:
        path.unlink()
    assert src.info["delimiter"] == delimiter
    assert [f.name for f in src.fields] == [*header, "zahl"]
    assert not src.errors and len(got) == len(rows)
    types = {f.name: f.type for f in src.fields}
    assert types["zahl"] == "integer"
    for row, want, n in zip(got, rows, ints, strict=True):
        assert row.properties["zahl"] == n
        for name, cell in zip(header, want, strict=True):
            value = row.properties[name]
            if types[name] == "string":
                assert value == cell
            else:
                assert convert(types[name], cell) == value
