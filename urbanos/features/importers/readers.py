"""File readers: path → :class:`Source` (schema, rows with WGS84 shapely geometry, bad rows, source CRS).

Pure: no database. ``open_source(path)`` picks the reader from the file name and its first bytes. openpyxl and
pyogrio (GDAL) are imported when an XLSX file or a GeoPackage/Shapefile is read, not with the module: they are large
and most imports are CSV or GeoJSON.
"""

from __future__ import annotations

import csv
import os
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from urbanos.errors import ValidationFailed
from urbanos.features.importers._geo import WGS84, check_lonlat, crs_name, to_wgs84
from urbanos.features.importers._geojson_stream import FEATURE, FEATURES, MEMBER, GeoJSONSyntaxError, events
from urbanos.features.importers._model import Field, Row, RowError, Source
from urbanos.features.importers._sniff import (
    TypeGuess,
    clean_names,
    convert,
    detect_delimiter,
    detect_encoding,
    native_type,
)
from urbanos.features.importers._tabular import tabular_source

FORMATS = ("csv", "geojson", "gpkg", "shapefile", "xlsx")
_CHUNK = 1 << 20


def _bad_file(fmt: str, why: str) -> ValidationFailed:
    return ValidationFailed(f"cannot read the {fmt} file: {why}", detail={"file": [why]})


def detect_format(path: str) -> str | None:
    """The format of ``path`` from its name, then from its first bytes; None when unknown."""
    lower = path.lower()
    for ext, fmt in ((".csv", "csv"), (".tsv", "csv"), (".txt", "csv"), (".geojson", "geojson"), (".json", "geojson"),
                     (".gpkg", "gpkg"), (".xlsx", "xlsx"), (".shp.zip", "shapefile")):
        if lower.endswith(ext):
            return fmt
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as z:
                members = [n.lower() for n in z.namelist()]
        except zipfile.BadZipFile:
            return None
        if any(n.endswith(".shp") for n in members):
            return "shapefile"
        if "xl/workbook.xml" in members:
            return "xlsx"
        return None
    if head.lstrip().startswith(b"{"):
        return "geojson"
    if lower.endswith(".zip"):
        return None
    return "csv" if head and b"\x00" not in head else None


def open_source(path: str, options: dict[str, Any] | None = None, fmt: str | None = None) -> Source:
    """Open a file for import; raises ValidationFailed (with a reason) when it cannot be read at all."""
    options = options or {}
    fmt = fmt or detect_format(path)
    if fmt == "csv":
        return read_csv(path, options)
    if fmt == "geojson":
        return read_geojson(path, options)
    if fmt in ("gpkg", "shapefile"):
        return read_ogr(path, fmt, options)
    if fmt == "xlsx":
        return read_xlsx(path, options)
    raise ValidationFailed(
        f"cannot tell the format of {os.path.basename(path)}. Fix: use CSV, GeoJSON, GeoPackage, zipped Shapefile or XLSX "
        "(.csv, .geojson, .gpkg, .zip, .xlsx).", detail={"file": ["unknown format"]})


# -- CSV -----------------------------------------------------------------------------------------

def _chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def read_csv(path: str, options: dict[str, Any]) -> Source:
    encoding = options.get("encoding") or detect_encoding(_chunks(path))
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(64 * 1024)
    if not sample.strip():
        raise _bad_file("CSV", "the file is empty")
    delimiter = options.get("delimiter") or ("\t" if path.lower().endswith(".tsv") else detect_delimiter(sample))
    csv.field_size_limit(64 * 1024 * 1024)  # WKT polygons are long

    def records() -> Iterator[tuple[int, Sequence[Any]]]:
        with open(path, encoding=encoding, errors="replace", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            line = 0
            while True:
                start = line + 1
                try:
                    rec = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    line = reader.line_num
                    yield start, _CsvBroken(str(exc))
                    continue
                line = reader.line_num
                if rec and any(c.strip() for c in rec):
                    yield start, rec

    it = records()
    first = next(it, None)
    if first is None or isinstance(first[1], _CsvBroken):
        raise _bad_file("CSV", "no header row")
    header = list(first[1])

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        gen = records()
        next(gen, None)
        yield from gen

    info = {"encoding": encoding, "delimiter": delimiter}
    return tabular_source(path, "csv", header, rows, options, info=info)


class _CsvBroken(list):  # type: ignore[type-arg]
    """A record the csv module could not parse; its length never matches, so the row is reported."""

    def __init__(self, reason: str) -> None:
        super().__init__([reason, "", "", ""])
        self.reason = reason


# -- XLSX ----------------------------------------------------------------------------------------

def read_xlsx(path: str, options: dict[str, Any]) -> Source:
    import openpyxl  # lazily, see the module's documentation

    def open_sheet() -> Any:
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
            raise _bad_file("XLSX", f"not a readable workbook ({type(exc).__name__})") from None
        name = options.get("sheet")
        if name and name not in wb.sheetnames:
            raise _bad_file("XLSX", f"no sheet named {name!r} (sheets: {', '.join(wb.sheetnames)})")
        return wb, wb[name] if name else wb.worksheets[0]

    wb, ws = open_sheet()
    try:
        header: list[Any] | None = None
        header_row = 0
        for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if any(v is not None and str(v).strip() for v in values):
                header, header_row = list(values), i
                break
        sheet = ws.title
    finally:
        wb.close()
    if header is None:
        raise _bad_file("XLSX", f"sheet {sheet!r} is empty")
    while header and (header[-1] is None or str(header[-1]).strip() == ""):
        header.pop()
    width = len(header)

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        wb2, ws2 = open_sheet()
        try:
            for i, values in enumerate(ws2.iter_rows(values_only=True), start=1):
                if i <= header_row:
                    continue
                cells = list(values[:width])
                extra = values[width:]
                if not any(v is not None and str(v).strip() != "" for v in values):
                    continue
                if any(v is not None and str(v).strip() != "" for v in extra):
                    cells = list(values)
                yield i, cells
        finally:
            wb2.close()

    return tabular_source(path, "xlsx", header, rows, options, info={"sheet": sheet}, pad=True)


# -- GeoJSON -------------------------------------------------------------------------------------

@dataclass
class _GeoJSONDocument:
    """What the first pass over a GeoJSON file found: the features' survey, the top-level members (but the
    features), how many ``features`` arrays there were (the last one counts, as in a JSON object), and the
    document's type; a single Feature is kept whole."""

    survey: _GeoJSONSurvey
    members: dict[str, Any]
    arrays: int
    kind: Any
    single: list[Any]


def _first_pass(path: str, chunk_size: int) -> _GeoJSONDocument:
    survey = _GeoJSONSurvey()
    members: dict[str, Any] = {}
    arrays = 0
    features_is_array = False
    not_object = False
    for ev, value in _geojson_events(path, chunk_size, decode_members=True):
        if ev == FEATURE:
            survey.add(value)
        elif ev == FEATURES:
            arrays += 1
            features_is_array = True
            survey = _GeoJSONSurvey()
            members.pop("features", None)
        elif ev == MEMBER:
            members[value[0]] = value[1]
            if value[0] == "features":
                features_is_array = False
        else:
            not_object = True
    if not_object:
        raise _bad_file("GeoJSON", "the top level is not a JSON object")
    kind = members.get("type")
    single: list[Any] = []
    if kind == "FeatureCollection":
        if not features_is_array:
            raise _bad_file("GeoJSON", "the FeatureCollection has no features array")
    elif kind == "Feature":
        single = [members]
        survey = _GeoJSONSurvey()
        survey.add(members)
    else:
        raise _bad_file("GeoJSON", f"type {kind!r} is not a FeatureCollection or Feature")
    return _GeoJSONDocument(survey, members, arrays, kind, single)


def _feature_row(i: int, f: Any, columns: dict[str, tuple[str, str]], project: Callable[[BaseGeometry], BaseGeometry],
                 errors: list[RowError]) -> Row | None:
    """Feature number ``i`` as a row (``columns``: column name → property key and kind); None, with the reason in
    ``errors``, when it cannot be read."""
    if not isinstance(f, dict) or f.get("type") != "Feature":
        errors.append(RowError(i, "not a GeoJSON Feature"))
        return None
    props = f.get("properties") or {}
    if not isinstance(props, dict):
        errors.append(RowError(i, "properties is not an object"))
        return None
    out: dict[str, Any] = {}
    try:
        for n, (key, kind) in columns.items():
            v = props.get(key)
            out[n] = None if v is None else convert(kind, v)
    except (ValueError, KeyError) as exc:
        errors.append(RowError(i, f"property value does not fit its column ({exc})"))
        return None
    geom = None
    g = f.get("geometry")
    if g is not None:
        try:
            geom = project(shapely.geometry.shape(g))
            check_lonlat(geom)
        except ValueError as exc:
            errors.append(RowError(i, str(exc)))
            return None
        except Exception as exc:  # noqa: BLE001 - shapely raises several kinds for bad input
            errors.append(RowError(i, f"invalid geometry ({str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__})"))
            return None
    fid = f.get("id")
    return Row(i, out, geom, fid if isinstance(fid, str | int) and not isinstance(fid, bool) else None)


def read_geojson(path: str, options: dict[str, Any], chunk_size: int = _CHUNK) -> Source:
    """A GeoJSON FeatureCollection (or a single Feature), streamed: the file is read twice, in chunks, and
    never held whole. The first pass checks the whole document and infers the column types, the geometry
    type and the count; each ``rows()`` call streams the features again. Top-level members may come in any
    order (a legacy ``crs`` member after the features too)."""
    doc = _first_pass(path, chunk_size)
    crs = None
    crs_member = doc.members.get("crs")
    if isinstance(crs_member, dict) and isinstance(crs_member.get("properties"), dict):
        crs = crs_name(crs_member["properties"].get("name"))
    crs = crs_name(options["crs"]) if options.get("crs") else crs
    order, seen, gtypes = doc.survey.order, doc.survey.seen, doc.survey.gtypes
    names = clean_names(list(order))
    key_of = dict(zip(names, order, strict=True))
    kinds = {n: _json_kind(order[key_of[n]], seen.get(key_of[n], set())) for n in names}
    columns = {n: (key_of[n], kinds[n]) for n in names}
    project = to_wgs84(crs)

    def features() -> Iterator[Any]:
        if doc.kind == "Feature":
            yield from doc.single
            return
        n = 0
        for ev, value in _geojson_events(path, chunk_size, decode_members=False):
            if ev == FEATURES:
                n += 1
            elif ev == FEATURE and n == doc.arrays:
                yield value

    def read(source: Source) -> Iterator[Row]:
        for i, f in enumerate(features(), start=1):
            row = _feature_row(i, f, columns, project, source.errors)
            if row is not None:
                yield row

    gtype = next(iter(gtypes)) if len(gtypes) == 1 else ("Geometry" if gtypes else None)
    return Source(path, "geojson", [Field(n, kinds[n]) for n in names], read,
                  source_crs=(crs or WGS84) if gtype else None, geometry_type=gtype, count=doc.survey.count)


def _geojson_events(path: str, chunk_size: int, decode_members: bool) -> Iterator[tuple[str, Any]]:
    """The streamed document; a syntax fault becomes ValidationFailed with its position."""
    try:
        with open(path, "rb") as fh:
            yield from events(fh, chunk_size, decode_members=decode_members)
    except GeoJSONSyntaxError as exc:
        raise _bad_file("GeoJSON", f"not valid JSON: {str(exc)[:160]}. Fix: check that the file is complete "
                                   "and is UTF-8 encoded JSON") from None


class _GeoJSONSurvey:
    """What the first pass learns from the features: property names in order with their value types,
    geometry types and the count."""

    def __init__(self) -> None:
        self.order: dict[str, TypeGuess] = {}
        self.seen: dict[str, set[str]] = {}
        self.gtypes: set[str] = set()
        self.count = 0

    def add(self, f: Any) -> None:
        self.count += 1
        if not isinstance(f, dict):
            return
        props = f.get("properties")
        if isinstance(props, dict):
            for k, v in props.items():
                self.order.setdefault(str(k), TypeGuess()).add(v)
                if v is not None:
                    self.seen.setdefault(str(k), set()).add(native_type(v))
        g = f.get("geometry")
        if isinstance(g, dict) and isinstance(g.get("type"), str):
            self.gtypes.add(g["type"])


def _json_kind(g: TypeGuess, kinds: set[str]) -> str:
    """JSON values keep their JSON type: strings stay strings (unless all are dates or date-times), numbers
    stay numbers; a property with values of mixed kinds becomes text (or JSON when arrays/objects occur)."""
    if not kinds:
        return "string"
    if kinds == {"string"}:
        kind = g.result()
        return kind if kind in ("date", "datetime") else "string"
    if kinds <= {"integer"}:
        return "integer"
    if kinds <= {"integer", "number"}:
        return "number"
    if kinds == {"boolean"}:
        return "boolean"
    if "json" in kinds:
        return "json"
    return "string"


# -- GeoPackage and zipped Shapefile (GDAL through pyogrio) ----------------------------------------

def read_ogr(path: str, fmt: str, options: dict[str, Any]) -> Source:
    import pyogrio  # lazily, see the module's documentation

    target = path
    if fmt == "shapefile":
        try:
            with zipfile.ZipFile(path) as z:
                shps = [n for n in z.namelist() if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
        except zipfile.BadZipFile:
            raise _bad_file("zipped Shapefile", "not a ZIP archive") from None
        if not shps:
            raise _bad_file("zipped Shapefile", "the archive holds no .shp file")
        target = f"/vsizip/{os.path.abspath(path)}/{shps[0]}"
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(target)]
        layer = options.get("layer") or (layers[0] if layers else None)
        if layer is None:
            raise _bad_file(fmt, "it holds no layer")
        meta = pyogrio.read_info(target, layer=layer)
    except ValidationFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL errors come in many classes
        raise _bad_file(fmt, str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__) from None
    crs = crs_name(options.get("crs") or meta.get("crs"))
    gtype = meta.get("geometry_type")
    gtype = None if gtype in (None, "Unknown", "None") and not meta.get("geometry_name", "") and gtype is None else gtype
    if gtype and gtype.startswith(("3D ", "2.5D ")):
        gtype = gtype.split(" ", 1)[1]
    if gtype and gtype.endswith(" Z"):
        gtype = gtype[:-2]
    names_raw = [str(n) for n in meta["fields"]]
    names = clean_names(names_raw)
    kinds = [_numpy_kind(str(d)) for d in meta["dtypes"]]
    fields = [Field(n, k) for n, k in zip(names, kinds, strict=True)]
    project = to_wgs84(crs)

    def read(source: Source) -> Iterator[Row]:
        from pyogrio.raw import open_arrow  # lazily, see the module's documentation

        with open_arrow(target, layer=layer, batch_size=5000, return_fids=False, use_pyarrow=True) as (m, reader):
            geom_col = m.get("geometry_name") or "wkb_geometry"
            n = 0
            for batch in reader:
                cols = {c: batch.column(c).to_pylist() for c in batch.schema.names}
                wkbs = cols.pop(geom_col, None) or [None] * batch.num_rows
                for j in range(batch.num_rows):
                    n += 1
                    props = {names[k]: cols[raw][j] for k, raw in enumerate(names_raw) if raw in cols}
                    geom = None
                    if wkbs[j] is not None:
                        try:
                            geom = project(shapely.from_wkb(wkbs[j]))
                            check_lonlat(geom)
                        except Exception as exc:  # noqa: BLE001
                            source.errors.append(RowError(n, f"invalid geometry ({str(exc).splitlines()[0][:80]})"))
                            continue
                    yield Row(n, props, geom)

    return Source(path, fmt, fields, read, source_crs=(crs or WGS84) if gtype else None, geometry_type=gtype,
                  count=meta.get("features"), info={"layer": layer, "layers": layers})


def _numpy_kind(dtype: str) -> str:
    if dtype.startswith(("int", "uint")):
        return "integer"
    if dtype.startswith("float"):
        return "number"
    if dtype == "bool":
        return "boolean"
    if dtype.startswith("datetime64"):
        return "datetime"
    if dtype == "date" or dtype.startswith("date32"):
        return "date"
    return "string"


def row_errors_text(errors: list[RowError], limit: int = 50) -> list[str]:
    out = [str(e) for e in errors[:limit]]
    if len(errors) > limit:
        out.append(f"… and {len(errors) - limit} more")
    return out


__all__ = ["FORMATS", "detect_format", "open_source", "read_csv", "read_xlsx", "read_geojson", "read_ogr", "native_type",
           "row_errors_text"]
