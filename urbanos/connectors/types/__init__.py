"""Connector types, one module each behind :class:`urbanos.connectors.types.base.ConnectorType`. A new type (the OGC
API Features and SensorThings mirrors, GTFS) is a module here and one entry in :func:`registry`."""

from __future__ import annotations

from urbanos.connectors.types.base import ConnectorType
from urbanos.connectors.types.gbfs import GbfsType
from urbanos.connectors.types.gtfs import GtfsType
from urbanos.connectors.types.gtfs_rt import GtfsRtType
from urbanos.connectors.types.ogcapi import OgcApiType
from urbanos.connectors.types.poll import CsvType, JsonType
from urbanos.connectors.types.sta import StaType
from urbanos.connectors.types.webhook import WebhookType
from urbanos.errors import ValidationFailed


def registry() -> dict[str, ConnectorType]:
    return {t.name: t for t in (CsvType(), JsonType(), WebhookType(), GbfsType(), GtfsType(), GtfsRtType(),
                                      StaType(), OgcApiType())}


def get_type(name: str) -> ConnectorType:
    types = registry()
    if name not in types:
        raise ValidationFailed(f"Unknown connector type {name!r}; use one of {', '.join(sorted(types))}.",
                               detail={"type": [f"one of {', '.join(sorted(types))}"]})
    return types[name]


__all__ = ["registry", "get_type", "ConnectorType"]
