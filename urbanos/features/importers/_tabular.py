"""Rows of cells (CSV, XLSX) to typed rows with geometry from lat/lon or WKT columns."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from shapely.geometry import Point

from urbanos.errors import ValidationFailed
from urbanos.features.importers._geo import WGS84, check_lonlat, crs_name, looks_like_wkt, parse_wkt, to_wgs84
from urbanos.features.importers._model import Field, Row, Source
from urbanos.features.importers._sniff import NULLS, TypeGuess, clean_names, convert, public_type

LAT_NAMES = ("latitude", "lat", "breitengrad", "breite", "y_lat", "lat_wgs84")
LON_NAMES = ("longitude", "lon", "lng", "long", "laengengrad", "längengrad", "laenge", "x_lon", "lon_wgs84")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "wkb_geometry", "geometrie", "shape", "geo_shape")
TOLERANCE = 0.001  # share of misfit values a typed column tolerates (those rows become bad rows)

RawRows = Callable[[], Iterator[tuple[int, Sequence[Any]]]]


def _find(names: list[str], wanted: Sequence[str]) -> int | None:
    lower = [n.lower() for n in names]
    for w in wanted:
        if w in lower:
            return lower.index(w)
    return None


def tabular_source(path: str, fmt: str, header: Sequence[Any], raw_rows: RawRows, options: dict[str, Any],
                   info: dict[str, Any] | None = None, pad: bool = False) -> Source:
    """Read the rows once to infer the column types and find the geometry, and return a :class:`Source`."""
    names = clean_names(header)
    width = len(names)
    if width == 0:
        raise ValidationFailed(f"{fmt}: the file has no header row. Fix: put the column names in the first row.",
                               detail={"file": ["no header row"]})
    guesses = [TypeGuess() for _ in names]
    wkt_seen = [0] * width
    count = 0
    for _rownum, cells in raw_rows():
        if len(cells) != width and not pad and not (len(cells) > width and all(_empty(c) for c in cells[width:])):
            continue
        count += 1
        for i, cell in enumerate(cells[:width]):
            guesses[i].add(cell)
            if wkt_seen[i] < 3 and looks_like_wkt(cell):
                wkt_seen[i] += 1
    kinds = [g.result(TOLERANCE) for g in guesses]

    lat, lon = _find(names, LAT_NAMES), _find(names, LON_NAMES)
    if lat is None or lon is None:
        lat = lon = None
        lx, ly = _find(names, ("x",)), _find(names, ("y",))
        if lx is not None and ly is not None and kinds[lx] in ("number", "integer") and kinds[ly] in ("number", "integer"):
            lat, lon = ly, lx
    wkt = None
    if lat is None:
        named = _find(names, WKT_NAMES)
        if named is not None and kinds[named] == "string" and wkt_seen[named]:  # the name alone is not enough
            wkt = named
        else:
            wkt = next((i for i in range(width) if wkt_seen[i] and kinds[i] == "string"), None)
    src_crs = crs_name(options.get("crs")) if options.get("crs") else None
    geometry_type: str | None = None
    if lat is not None and lon is not None:
        geometry_type = "Point"
        for i in (lat, lon):  # coordinates are numbers: misfits are bad rows, not a text column
            if kinds[i] not in ("integer", "number", "number_comma"):
                kinds[i] = "number_comma" if guesses[i].fails["number_comma"] < guesses[i].fails["number"] else "number"
    elif wkt is not None:
        geometry_type = "Geometry"
    raw_names = ["" if h is None else str(h) for h in header]
    fields = [Field(n, public_type(k), raw_names[i] if raw_names[i].strip() and raw_names[i].strip() != n else "")
              for i, (n, k) in enumerate(zip(names, kinds, strict=True)) if i != wkt]
    project = to_wgs84(src_crs)

    def read(source: Source) -> Iterator[Row]:
        errors = source.errors
        for rownum, cells in raw_rows():
            if len(cells) != width:
                if len(cells) > width and all(_empty(c) for c in cells[width:]):
                    cells = cells[:width]
                elif pad and len(cells) < width:
                    cells = list(cells) + [None] * (width - len(cells))
                elif pad:
                    cells = cells[:width]
                else:
                    errors.append(_err(rownum, f"expected {width} fields, found {len(cells)}"))
                    continue
            props: dict[str, Any] = {}
            bad = None
            for i, cell in enumerate(cells):
                if i == wkt:
                    continue
                try:
                    props[names[i]] = convert(kinds[i], cell)
                except (ValueError, KeyError, OverflowError):
                    bad = f"column {names[i]!r}: {str(cell)[:60]!r} is not {_a(public_type(kinds[i]))}"
                    break
            if bad:
                errors.append(_err(rownum, bad))
                continue
            geom = None
            try:
                if lat is not None and lon is not None:
                    y, x = props[names[lat]], props[names[lon]]
                    if (x is None) != (y is None):
                        raise ValueError("latitude or longitude is missing")
                    if x is not None:
                        geom = project(Point(float(x), float(y)))
                        check_lonlat(geom)
                elif wkt is not None and not _empty(cells[wkt]):
                    geom = project(parse_wkt(str(cells[wkt])))
                    check_lonlat(geom)
            except ValueError as exc:
                errors.append(_err(rownum, str(exc)))
                continue
            yield Row(rownum, props, geom)

    info = dict(info or {})
    if lat is not None and lon is not None:
        info["geometry_columns"] = [names[lat], names[lon]]
    elif wkt is not None:
        info["geometry_columns"] = [names[wkt]]
    return Source(path, fmt, fields, read, source_crs=(src_crs or WGS84) if geometry_type else None,
                  geometry_type=geometry_type, count=count, info=info)


def _empty(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() in NULLS)


def _a(kind: str) -> str:
    return {"integer": "an integer", "number": "a number", "boolean": "true or false", "date": "a date (YYYY-MM-DD)",
            "datetime": "a date-time (ISO 8601)"}.get(kind, f"of type {kind}")


def _err(row: int, reason: str) -> Any:
    from urbanos.features.importers._model import RowError

    return RowError(row, reason)


__all__ = ["tabular_source", "LAT_NAMES", "LON_NAMES", "WKT_NAMES"]
