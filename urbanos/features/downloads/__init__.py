"""Streaming downloads of collections as CSV, GeoJSON, Parquet (GeoParquet) and XLSX.

``encoders`` turns feature rows into bytes (pure), ``service`` checks access, reports the read and streams a
collection, ``routes`` serves it over HTTP.
"""

from __future__ import annotations

from urbanos.features.downloads.encoders import (
    FORMATS,
    CsvEncoder,
    Encoder,
    GeoJsonEncoder,
    ParquetEncoder,
    XlsxEncoder,
    encode_all,
    encoder,
    parse_format,
)
from urbanos.features.downloads.service import disposition, prepare, stream

__all__ = ["FORMATS", "Encoder", "CsvEncoder", "GeoJsonEncoder", "ParquetEncoder", "XlsxEncoder", "encoder", "encode_all",
           "parse_format", "prepare", "stream", "disposition"]
