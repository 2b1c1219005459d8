"""Pure text sniffing: encoding, delimiter, column names and column types.

Nothing here touches the database; every function is safe on arbitrary input
(``tests/features/test_import_sniff.py`` fuzzes it with hypothesis).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from urbanos.errors import ValidationFailed

DELIMITERS = (",", ";", "\t", "|")
NULLS = frozenset({"", "NA", "N/A", "n/a", "NULL", "null", "None", "nan", "NaN", "-"})
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_INT = re.compile(r"[+-]?(0|[1-9][0-9]*)")
_NUM = re.compile(r"[+-]?(0|[1-9][0-9]*)?(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_NUM_COMMA = re.compile(r"[+-]?(0|[1-9][0-9]*),[0-9]+")
_DATE = re.compile(r"[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?")
_BOOL = {"true": True, "false": False, "TRUE": True, "FALSE": False, "True": True, "False": False}
INT64 = 2**63 - 1


def detect_encoding(data: bytes | Iterable[bytes]) -> str:
    """utf-8 (with or without BOM), utf-16 by BOM, else cp1252 when it fits, else latin-1."""
    chunks = iter([data]) if isinstance(data, bytes | bytearray) else iter(data)
    first = next(chunks, b"")
    if first.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    dec = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    cp1252 = True
    chunk: bytes | None = first
    while chunk is not None:
        if b"\x00" in chunk:
            raise ValidationFailed("the file is binary, not text. Fix: upload a CSV file, or name the file by its format.",
                                   detail={"file": ["binary content (NUL bytes)"]})
        if utf8:
            try:
                dec.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
        if cp1252 and not _CP1252_UNDEFINED.isdisjoint(chunk):
            cp1252 = False
        chunk = next(chunks, None)
    if utf8:
        try:
            dec.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    return "cp1252" if cp1252 else "latin-1"


def detect_delimiter(sample: str) -> str:
    """The delimiter that splits the first lines into the most consistent number (> 1) of columns."""
    lines = sample.splitlines()[:100]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut
    best = (",", (-1.0, 0))
    for delim in DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim) if r]
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        same = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (same, width)
        if score > best[1]:
            best = (delim, score)
    return best[0]


def clean_names(header: Sequence[Any]) -> list[str]:
    """Column names: trimmed, never empty, unique (``name_2`` for the second ``name``)."""
    out: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(header, start=1):
        name = ("" if raw is None else str(raw)).replace("\ufeff", "").strip()
        name = re.sub(r"[\x00-\x1f]", " ", name).strip() or f"column_{i}"
        base, n = name, 1
        while name.lower() in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name.lower())
        out.append(name)
    return out


class TypeGuess:
    """Narrows a column's type as values arrive: integer → number → string; also boolean, date, datetime.

    Failures are counted, so that a column of 10,000 integers with one stray word stays an integer
    column and that one row is reported as bad (see :meth:`result`). A value written as a date (or date-time)
    that is no valid one (``2021-13-45``) does not make a date column text: once the column has a valid date,
    its row is reported as bad, naming the value.
    """

    KINDS = ("integer", "number", "number_comma", "boolean", "date", "datetime")
    __slots__ = ("fails", "seen", "native", "invalid")

    def __init__(self) -> None:
        self.fails = dict.fromkeys(self.KINDS, 0)
        self.invalid = {"date": 0, "datetime": 0}  # values shaped as a date (date-time) that are none
        self.seen = 0
        self.native: str | None = None  # type of typed cells (XLSX), when every cell agreed

    def add(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self._add_native(value)
            return
        v = value.strip()
        if v in NULLS:
            return
        self.seen += 1
        f = self.fails
        if not (_INT.fullmatch(v) and abs(int(v)) <= INT64):
            f["integer"] += 1
        if not (_NUM.fullmatch(v) and any(ch.isdigit() for ch in v)):
            f["number"] += 1
        if not (_NUM_COMMA.fullmatch(v) or _INT.fullmatch(v)):
            f["number_comma"] += 1
        if v not in _BOOL:
            f["boolean"] += 1
        if not _DATE.fullmatch(v):
            f["date"] += 1
        elif _parse_date(v) is None:
            self.invalid["date"] += 1
        if not _DATETIME.fullmatch(v):
            f["datetime"] += 1
        elif _parse_datetime(v) is None:
            self.invalid["datetime"] += 1

    def _add_native(self, value: Any) -> None:
        kind = native_type(value)
        self.add(_as_text(value))
        if self.native is None:
            self.native = kind
        elif self.native != kind:
            self.native = "number" if {self.native, kind} <= {"integer", "number"} else "string"

    def result(self, tolerance: float = 0.0) -> str:
        """The narrowest type that fits; with ``tolerance`` (a share of the values, e.g. 0.001) a few
        misfits are allowed (their rows become bad rows) once at least 1,000 values were seen."""
        if not self.seen:
            return "string"
        if self.native == "json":
            return "json"
        allowed = int(self.seen * tolerance) if self.seen >= 1000 else 0
        for kind in self.KINDS:
            if self.fails[kind] <= allowed and self.fails[kind] + self.invalid.get(kind, 0) < self.seen:
                return kind
        if self.native in ("date", "datetime"):
            return self.native
        return "string"


def native_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dict | list):
        return "json"
    return "string"


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return repr(value)  # keeps 3.0 a number, not an integer
    if isinstance(value, dt.datetime):
        return value.isoformat(sep="T")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return "\x00json"  # never a number, date or boolean
    return str(value)


def _parse_date(v: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(v.replace("/", "-"))
    except ValueError:
        return None


def _parse_datetime(v: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(v.replace("Z", "+00:00") if v.endswith("Z") else v)
    except ValueError:
        return None


def convert(kind: str, value: Any) -> Any:
    """Convert one cell to the column's type; ``None`` for nulls. Raises ValueError when it does not fit."""
    if value is None:
        return None
    if not isinstance(value, str):
        return _convert_native(kind, value)
    if kind == "string":
        return value if value != "" else None
    v = value.strip()
    if v in NULLS:
        return None
    if kind == "integer":
        return int(v)
    if kind == "number":
        return float(v)
    if kind == "number_comma":
        return float(v.replace(",", "."))
    if kind == "boolean":
        return _BOOL[v]
    if kind == "date":
        d = _parse_date(v)
        if d is None:
            raise ValueError(f"{v!r} is not a date")
        return d
    if kind == "datetime":
        t = _parse_datetime(v)
        if t is None:
            raise ValueError(f"{v!r} is not a date-time")
        return t
    return v


def _convert_native(kind: str, value: Any) -> Any:
    if kind == "string":
        return _as_text(value) if not isinstance(value, dict | list) else str(value)
    if kind in ("integer",) and isinstance(value, float):
        return int(value)
    if kind in ("number", "number_comma") and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "datetime" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    if kind == "date" and isinstance(value, dt.datetime):
        return value.date()
    if kind == "json" or native_type(value) == kind:
        return value
    return convert(kind, _as_text(value))


def public_type(kind: str) -> str:
    return "number" if kind == "number_comma" else kind


__all__ = ["detect_encoding", "detect_delimiter", "clean_names", "TypeGuess", "convert", "native_type", "public_type", "NULLS"]
