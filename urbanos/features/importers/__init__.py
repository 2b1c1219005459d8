"""File importers for ``urbanos import``: CSV, GeoJSON, GeoPackage, zipped Shapefile and XLSX.

``readers`` turns a file into a schema and rows (pure); ``run.import_file`` loads it into a collection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.features.importers.readers import detect_format
from urbanos.features.importers.run import import_file
from urbanos.plugins import Importer

if TYPE_CHECKING:
    from urbanos.platform import Platform

_DESCRIPTIONS = {
    "csv": "CSV (encoding and delimiter detected; geometry from lat/lon or WKT columns)",
    "geojson": "GeoJSON FeatureCollection",
    "gpkg": "GeoPackage (first layer)",
    "shapefile": "zipped Shapefile",
    "xlsx": "Excel workbook (first sheet)",
}


class FileImporter(Importer):
    """Imports one tabular or geodata file format into a collection named after the dataset."""

    def __init__(self, fmt: str) -> None:
        self.format = fmt
        self.name = fmt
        self.description = _DESCRIPTIONS[fmt]

    def score(self, path: str) -> int:
        return 50 if detect_format(path) == self.format else 0

    def run(self, platform: Platform, path: str, dataset: str, options: dict[str, Any]) -> dict[str, Any]:
        return import_file(platform, path, dataset, options, fmt=self.format)


def importers() -> list[Importer]:
    """The :class:`urbanos.plugins.Importer` instances this package offers."""
    return [FileImporter(f) for f in ("csv", "geojson", "gpkg", "shapefile", "xlsx")]


__all__ = ["importers", "FileImporter"]
