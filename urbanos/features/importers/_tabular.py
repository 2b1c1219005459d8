"""Rows of cells (CSV, XLSX) to typed rows with geometry from lat/lon or WKT columns."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from urbanos.errors import ValidationFailed
from urbanos.features.importers._geo import WGS84, check_lonlat, crs_name, looks_like_wkt, parse_wkt, to_wgs84
from urbanos.features.importers._model import Field, Row, RowError, Source
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


@dataclass
class _Layout:
    """How the cells of a row become a row: the column names and kinds, and where the geometry is."""

    names: list[str]
    kinds: list[str]
    pad: bool
    lat: int | None = None
    lon: int | None = None
    wkt: int | None = None

    @property
    def width(self) -> int:
        return len(self.names)

    def fits(self, cells: Sequence[Any]) -> Sequence[Any] | None:
        """The cells cut or padded to the width, or None when the row has the wrong number of cells."""
        width = self.width
        if len(cells) == width:
            return cells
        if len(cells) > width and all(_empty(c) for c in cells[width:]):
            return cells[:width]
        if self.pad and len(cells) < width:
            return list(cells) + [None] * (width - len(cells))
        if self.pad:
            return cells[:width]
        return None

    def properties(self, cells: Sequence[Any]) -> tuple[dict[str, Any], str | None]:
        """The typed values of a row, or the reason the first misfit cell is refused."""
        props: dict[str, Any] = {}
        for i, cell in enumerate(cells):
            if i == self.wkt:
                continue
            try:
                props[self.names[i]] = convert(self.kinds[i], cell)
            except (ValueError, KeyError, OverflowError):
                return props, f"column {self.names[i]!r}: {str(cell)[:60]!r} is not {_a(public_type(self.kinds[i]))}"
        return props, None

    def geometry(self, props: dict[str, Any], cells: Sequence[Any], project: Callable[[BaseGeometry], BaseGeometry],
                 ) -> BaseGeometry | None:
        """The row's geometry in WGS84 (ValueError with the reason when it cannot be read)."""
        if self.lat is not None and self.lon is not None:
            y, x = props[self.names[self.lat]], props[self.names[self.lon]]
            if (x is None) != (y is None):
                raise ValueError("latitude or longitude is missing")
            if x is None:
                return None
            geom = project(Point(float(x), float(y)))
        elif self.wkt is not None and not _empty(cells[self.wkt]):
            geom = project(parse_wkt(str(cells[self.wkt])))
        else:
            return None
        check_lonlat(geom)
        return geom


def _survey(layout: _Layout, raw_rows: RawRows) -> tuple[list[TypeGuess], list[int], int]:
    """Read the rows once: the type guess of each column, how many cells of each look like WKT (up to 3), and the
    number of rows of the right width."""
    width = layout.width
    guesses = [TypeGuess() for _ in layout.names]
    wkt_seen = [0] * width
    count = 0
    for _rownum, cells in raw_rows():
        if len(cells) != width and not layout.pad and not (len(cells) > width and all(_empty(c) for c in cells[width:])):
            continue
        count += 1
        for i, cell in enumerate(cells[:width]):
            guesses[i].add(cell)
            if wkt_seen[i] < 3 and looks_like_wkt(cell):
                wkt_seen[i] += 1
    return guesses, wkt_seen, count


def _find_geometry(layout: _Layout, guesses: list[TypeGuess], wkt_seen: list[int]) -> str | None:
    """Set the layout's latitude and longitude columns (numbers) or its WKT column; returns the geometry type."""
    names, kinds = layout.names, layout.kinds
    lat, lon = _find(names, LAT_NAMES), _find(names, LON_NAMES)
    if lat is None or lon is None:
        lat = lon = None
        lx, ly = _find(names, ("x",)), _find(names, ("y",))
        if lx is not None and ly is not None and kinds[lx] in ("number", "integer") and kinds[ly] in ("number", "integer"):
            lat, lon = ly, lx
    if lat is not None and lon is not None:
        layout.lat, layout.lon = lat, lon
        for i in (lat, lon):  # coordinates are numbers: misfits are bad rows, not a text column
            if kinds[i] not in ("integer", "number", "number_comma"):
                kinds[i] = "number_comma" if guesses[i].fails["number_comma"] < guesses[i].fails["number"] else "number"
        return "Point"
    named = _find(names, WKT_NAMES)
    if named is not None and kinds[named] == "string" and wkt_seen[named]:  # the name alone is not enough
        layout.wkt = named
    else:
        layout.wkt = next((i for i in range(layout.width) if wkt_seen[i] and kinds[i] == "string"), None)
    return "Geometry" if layout.wkt is not None else None


def tabular_source(path: str, fmt: str, header: Sequence[Any], raw_rows: RawRows, options: dict[str, Any],
                   info: dict[str, Any] | None = None, pad: bool = False) -> Source:
    """Read the rows once to infer the column types and find the geometry, and return a :class:`Source`."""
    names = clean_names(header)
    if not names:
        raise ValidationFailed(f"{fmt}: the file has no header row. Fix: put the column names in the first row.",
                               detail={"file": ["no header row"]})
    layout = _Layout(names, [], pad)
    guesses, wkt_seen, count = _survey(layout, raw_rows)
    layout.kinds = [g.result(TOLERANCE) for g in guesses]
    geometry_type = _find_geometry(layout, guesses, wkt_seen)
    src_crs = crs_name(options.get("crs")) if options.get("crs") else None
    raw_names = ["" if h is None else str(h) for h in header]
    fields = [Field(n, public_type(k), raw_names[i] if raw_names[i].strip() and raw_names[i].strip() != n else "")
              for i, (n, k) in enumerate(zip(names, layout.kinds, strict=True)) if i != layout.wkt]
    project = to_wgs84(src_crs)

    def read(source: Source) -> Iterator[Row]:
        errors = source.errors
        for rownum, raw in raw_rows():
            cells = layout.fits(raw)
            if cells is None:
                errors.append(RowError(rownum, f"expected {layout.width} fields, found {len(raw)}"))
                continue
            props, bad = layout.properties(cells)
            if bad:
                errors.append(RowError(rownum, bad))
                continue
            try:
                geom = layout.geometry(props, cells, project)
            except ValueError as exc:
                errors.append(RowError(rownum, str(exc)))
                continue
            yield Row(rownum, props, geom)

    info = dict(info or {})
    if layout.lat is not None and layout.lon is not None:
        info["geometry_columns"] = [names[layout.lat], names[layout.lon]]
    elif layout.wkt is not None:
        info["geometry_columns"] = [names[layout.wkt]]
    return Source(path, fmt, fields, read, source_crs=(src_crs or WGS84) if geometry_type else None,
                  geometry_type=geometry_type, count=count, info=info)


def _empty(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() in NULLS)


def _a(kind: str) -> str:
    return {"integer": "an integer", "number": "a number", "boolean": "true or false", "date": "a date (YYYY-MM-DD)",
            "datetime": "a date-time (ISO 8601)"}.get(kind, f"of type {kind}")


__all__ = ["tabular_source", "LAT_NAMES", "LON_NAMES", "WKT_NAMES"]
