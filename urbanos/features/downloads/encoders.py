"""The download encoders, pure (no database, no web): ``encoder(fmt, meta)`` returns an object with
``start() -> bytes``, ``add(rows) -> bytes`` and ``finish() -> Iterator[bytes]``.

pyarrow and openpyxl are imported when a Parquet or XLSX download starts, not with the module: they are large and
most downloads are CSV or GeoJSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from urbanos.core.escaping import spreadsheet_text
from urbanos.errors import BadRequest
from urbanos.features import store

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "geojson": ("application/geo+json", "geojson"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
ALIASES = {"json": "geojson", "excel": "xlsx", "pq": "parquet", "geoparquet": "parquet"}
BATCH = 5000
XLSX_MAX_ROWS = 1_048_575  # one header row plus this many rows fill a worksheet
XLSX_MAX_CELL = 32767


# -- encoders (pure) ---------------------------------------------------------------------------------------

class Encoder:
    """Turns batches of :class:`store.FeatureRow` into bytes."""

    def __init__(self, fields: Sequence[store.Field], geometry: bool, meta: store.CollectionMeta | None = None) -> None:
        self.fields = list(fields)
        self.geometry = geometry
        self.meta = meta

    def start(self) -> bytes:
        return b""

    def add(self, rows: Iterable[store.FeatureRow]) -> bytes:
        raise NotImplementedError

    def finish(self) -> Iterator[bytes]:
        return iter(())


def _wkt(g: BaseGeometry | None) -> str:
    return "" if g is None else str(shapely.to_wkt(g, rounding_precision=-1))


def _geoms(rows: Sequence[store.FeatureRow]) -> Any:
    arr = np.empty(len(rows), dtype=object)
    arr[:] = [r.geometry for r in rows]
    return arr


def _text(ftype: str, v: Any) -> str:
    if v is None:
        return ""
    if ftype == "boolean":
        return "true" if v else "false"
    if ftype == "json":
        return orjson.dumps(v).decode()
    if ftype == "number" and isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return repr(v)
    if isinstance(v, str):  # text (numbers stored as numbers are left alone): never a formula in a spreadsheet
        return spreadsheet_text(v)
    return str(v)


class CsvEncoder(Encoder):
    """RFC 4180 CSV in UTF-8; the geometry, when there is one, is a last column ``geometry`` in WKT. Text that a
    spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, tab or CR first) starts with ``'``."""

    def start(self) -> bytes:
        return self._line([spreadsheet_text(f.name) for f in self.fields] + (["geometry"] if self.geometry else []))

    def _line(self, *rows: list[str]) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerows(rows)
        return buf.getvalue().encode()

    def add(self, rows: Iterable[store.FeatureRow]) -> bytes:
        rows = list(rows)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        fields = self.fields
        wkts = shapely.to_wkt(_geoms(rows), rounding_precision=-1) if self.geometry else None
        for i, r in enumerate(rows):
            props = r.properties
            line = [_text(f.type, props.get(f.name)) for f in fields]
            if wkts is not None:
                line.append(wkts[i] or "")
            w.writerow(line)
        return buf.getvalue().encode()


class GeoJsonEncoder(Encoder):
    """An RFC 7946 FeatureCollection, written feature by feature."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.first = True

    def start(self) -> bytes:
        return b'{"type":"FeatureCollection","features":['

    def add(self, rows: Iterable[store.FeatureRow]) -> bytes:
        rows = list(rows)
        parts: list[bytes] = []
        geoms = shapely.to_geojson(_geoms(rows))
        names = [f.name for f in self.fields]
        for i, r in enumerate(rows):
            props = r.properties
            g = geoms[i]
            parts.append(b'{"type":"Feature","id":%d,"geometry":%s,"properties":%s}' % (
                r.fid, b"null" if g is None else g.encode(), orjson.dumps({n: props.get(n) for n in names})))
        if not parts:
            return b""
        out = b",\n".join(parts)
        if not self.first:
            out = b",\n" + out
        self.first = False
        return out

    def finish(self) -> Iterator[bytes]:
        yield b"]}\n"


class _Sink(io.RawIOBase):
    """A write-only file that hands over what was written since the last ``drain``."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.pos = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.parts.append(data)
        self.pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self.pos

    def drain(self) -> bytes:
        out = b"".join(self.parts)
        self.parts = []
        return out


class ParquetEncoder(Encoder):
    """Parquet, one row group per batch; with a geometry, GeoParquet 1.0 (WKB column ``geometry``, CRS84)."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        import pyarrow as pa  # loaded when a Parquet download starts (large, and most downloads need it not)

        super().__init__(*a, **kw)
        self.pa = pa
        types = {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(), "date": pa.date32(),
                 "datetime": pa.timestamp("us", tz="UTC")}
        cols = [pa.field(f.name, types.get(f.type, pa.string())) for f in self.fields]
        meta: dict[bytes, bytes] = {}
        if self.geometry:
            cols.append(pa.field("geometry", pa.binary()))
            gtype = self.meta.geometry_type if self.meta is not None else ""
            geo = {"version": "1.0.0", "primary_column": "geometry",
                   "columns": {"geometry": {"encoding": "WKB",
                                            "geometry_types": [gtype] if gtype and gtype != "Geometry" else []}}}
            if self.meta is not None and self.meta.bbox:
                geo["columns"]["geometry"]["bbox"] = list(self.meta.bbox)  # type: ignore[index]
            meta[b"geo"] = orjson.dumps(geo)
        self.schema = pa.schema(cols, metadata=meta or None)
        self.sink = _Sink()
        self.writer: Any = None

    def start(self) -> bytes:
        import pyarrow.parquet as pq  # see above

        self.writer = pq.ParquetWriter(self.sink, self.schema, compression="zstd")
        return self.sink.drain()

    def _column(self, f: store.Field, values: list[Any]) -> Any:
        pa = self.pa
        if f.type in ("date", "datetime"):
            target = pa.date32() if f.type == "date" else pa.timestamp("us", tz="UTC")
            try:  # stored as fixed-width ISO text: Arrow parses it in C
                return pa.array(values, type=pa.string()).cast(target)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                if f.type == "date":
                    return pa.array([None if v is None else dt.date.fromisoformat(str(v)[:10]) for v in values], target)
                return pa.array([None if v is None else store.parse_datetime(v) for v in values], target)
        if f.type == "json":
            return [None if v is None else orjson.dumps(v).decode() for v in values]
        return values

    def add(self, rows: Iterable[store.FeatureRow]) -> bytes:
        rows = list(rows)
        if not rows:
            return b""
        data = {f.name: self._column(f, [r.properties.get(f.name) for r in rows]) for f in self.fields}
        if self.geometry:
            data["geometry"] = list(shapely.to_wkb(_geoms(rows), output_dimension=2))
        self.writer.write_table(self.pa.Table.from_pydict(data, schema=self.schema))
        return self.sink.drain()

    def finish(self) -> Iterator[bytes]:
        if self.writer is not None:
            self.writer.close()
        yield self.sink.drain()


class XlsxEncoder(Encoder):
    """An Excel workbook written with openpyxl's write-only mode (rows go to a temporary file, not memory);
    the file is streamed when complete. Geometries longer than a cell allows are left empty. Text is never a
    formula: text that a spreadsheet would read as one starts with ``'`` (as in the CSV)."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        import openpyxl  # loaded when an XLSX download starts (large, and most downloads need it not)

        super().__init__(*a, **kw)
        self.wb = openpyxl.Workbook(write_only=True)
        title = (self.meta.name if self.meta is not None else "data")[:31]
        self.ws = self.wb.create_sheet(title="".join(ch if ch not in "[]:*?/\\" else "_" for ch in title) or "data")

    def start(self) -> bytes:
        self.ws.append([spreadsheet_text(_xml_safe(f.name)) for f in self.fields] + (["geometry"] if self.geometry else []))
        return b""

    def _cell(self, f: store.Field, v: Any) -> Any:
        if v is None:
            return None
        if f.type == "datetime":
            return store.parse_datetime(v).replace(tzinfo=None)
        if f.type == "date":
            return dt.date.fromisoformat(str(v)[:10])
        if f.type == "json":
            return spreadsheet_text(orjson.dumps(v).decode()[:XLSX_MAX_CELL - 1])
        if isinstance(v, str):
            return spreadsheet_text(_xml_safe(v))[:XLSX_MAX_CELL]
        return v

    def add(self, rows: Iterable[store.FeatureRow]) -> bytes:
        for r in rows:
            line = [self._cell(f, r.properties.get(f.name)) for f in self.fields]
            if self.geometry:
                w = _wkt(r.geometry)
                if len(w) > XLSX_MAX_CELL and r.geometry is not None:
                    w = str(shapely.to_wkt(r.geometry, rounding_precision=6))
                line.append(w if len(w) <= XLSX_MAX_CELL else None)
            self.ws.append(line)
        return b""

    def finish(self) -> Iterator[bytes]:
        fd, path = tempfile.mkstemp(suffix=".xlsx")
        os.close(fd)
        try:
            self.wb.save(path)
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 16):
                    yield chunk
        finally:
            os.unlink(path)


def _xml_safe(s: str) -> str:
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in s):
        return "".join(ch for ch in s if ord(ch) >= 32 or ch in "\t\n\r")
    return s


ENCODERS: dict[str, type[Encoder]] = {"csv": CsvEncoder, "geojson": GeoJsonEncoder, "parquet": ParquetEncoder,
                                      "xlsx": XlsxEncoder}


def encoder(fmt: str, meta: store.CollectionMeta, fields: Sequence[store.Field] | None = None) -> Encoder:
    return ENCODERS[fmt](list(fields if fields is not None else meta.fields), meta.has_geometry, meta)


def encode_all(fmt: str, meta: store.CollectionMeta, rows: Iterable[store.FeatureRow], batch: int = BATCH) -> Iterator[bytes]:
    """Encode an iterable of rows (no database): used by tests and by the CLI."""
    enc = encoder(fmt, meta)
    yield enc.start()
    chunk: list[store.FeatureRow] = []
    for r in rows:
        chunk.append(r)
        if len(chunk) >= batch:
            yield enc.add(chunk)
            chunk = []
    if chunk:
        yield enc.add(chunk)
    yield from enc.finish()


def parse_format(value: str | None) -> str:
    fmt = (value or "csv").lower()
    fmt = ALIASES.get(fmt, fmt)
    if fmt not in FORMATS:
        raise BadRequest(f"format {value!r} is not offered. Fix: use one of csv, geojson, parquet, xlsx.",
                         code="InvalidParameterValue", detail={"format": ["unknown"]})
    return fmt


__all__ = ["FORMATS", "ALIASES", "BATCH", "XLSX_MAX_ROWS", "Encoder", "CsvEncoder", "GeoJsonEncoder", "ParquetEncoder",
           "XlsxEncoder", "ENCODERS", "encoder", "encode_all", "parse_format"]
