"""How sensing data appears in the catalogue: a dataset whose Things and Datastreams this capability serves is
described as a distribution read through the SensorThings API (:meth:`urbanos.ports.CatalogPort.describe_service`),
whose ``dcat:accessService`` is the API (its endpoint, its description and the standard it conforms to)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from urllib.parse import quote

from urbanos.ports import CatalogPort

if TYPE_CHECKING:
    from urbanos.platform import Platform

log = logging.getLogger("urbanos.sensing")
STA_SPEC = "http://www.opengis.net/spec/iot_sensing/1.1"
STA_ROOT = "/sta/v1.1"


def datastreams_url(source: str) -> str:
    """The Datastreams of the Things whose property ``source`` is ``source``, in the SensorThings API."""
    return f"{STA_ROOT}/Datastreams?$filter=" + quote(f"Thing/properties/source eq '{source}'", safe="/")


def describe_api(platform: Platform, dataset: str, source: str) -> None:
    """Describe the Datastreams of dataset ``dataset`` (its Things carry ``properties.source``) as its distribution
    in the catalogue, once, when the catalogue is installed. A failure is logged: the data is loaded either way."""
    catalog = platform.optional(CatalogPort)
    if catalog is None:
        return
    coro = catalog.describe_service(
        dataset, url=datastreams_url(source), title="SensorThings API: Datastreams", conforms_to=STA_SPEC,
        endpoint_url=STA_ROOT, description="The sensors' observations, live: OGC SensorThings API 1.1 (HTTP and MQTT).")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # called on the thread of a running event loop: not expected, skip rather than block
        coro.close()
        return
    try:
        asyncio.run(coro)
    except Exception as exc:  # noqa: BLE001 - the catalogue entry is a convenience, the data stands
        log.warning("could not describe the SensorThings API of %s: %s", dataset, getattr(exc, "message", exc))


__all__ = ["describe_api", "datastreams_url", "STA_SPEC"]
