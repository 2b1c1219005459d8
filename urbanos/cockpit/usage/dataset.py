"""The usage statistics as an open dataset of the catalogue (usage statistics are data too): ``usage-statistics``,
owned by the organisation of the setting ``cockpit_usage_dataset_org``, with ``/cockpit/public/usage.csv`` and
``/cockpit/public/usage.json`` as its distributions. Registered through :meth:`urbanos.ports.CatalogPort.ensure_dataset`
(the catalogue's own checks, as the platform's admin), so it is in CKAN's package_search, DCAT and the portal; the
call writes nothing when the dataset already says so."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from urbanos.errors import UrbanosError
from urbanos.governance import ADMIN
from urbanos.ports import CatalogPort

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.cockpit.usage")
NAME = "usage-statistics"
DEMO_ORG = "hamburg-lgv"  # the operator of Hamburg's Urban Data Platform, in the demo catalogue


def metadata(org: str, license_id: str) -> dict[str, Any]:
    """The dataset as CKAN package fields (English, with German title and description)."""
    return {
        "name": NAME, "owner_org": org, "access_level": "open", "license_id": license_id,
        "title": "Usage statistics of the open data platform",
        "title_translated": {"de": "Nutzungsstatistik der offenen Datenplattform"},
        "notes": "How the open datasets and the APIs of this platform are used: anonymous read counts per day, dataset, "
                 "resource and API (SensorThings, MQTT, OGC API Features, DataStore, CKAN, DCAT, downloads, portal). No "
                 "IP addresses, no per-person rows, no application names. Computed when requested: the CSV and JSON "
                 "cover the last 30 days by default (`since` and `until` choose another period).",
        "notes_translated": {"de": "Wie die offenen Datensätze und Schnittstellen dieser Plattform genutzt werden: "
                                   "anonyme Zugriffszahlen je Tag, Datensatz, Ressource und Schnittstelle (SensorThings, "
                                   "MQTT, OGC API Features, DataStore, CKAN, DCAT, Downloads, Portal). Keine IP-Adressen, "
                                   "keine personenbezogenen Zeilen, keine Anwendungsnamen. Bei jedem Abruf berechnet: "
                                   "CSV und JSON umfassen standardmäßig die letzten 30 Tage (`since` und `until` wählen "
                                   "einen anderen Zeitraum)."},
        "tags": ["usage", "statistics", "open data", "Nutzungsstatistik"], "theme": ["GOVE"],
        "frequency": "UPDATE_CONT",
    }


RESOURCES = (
    {"url": "/cockpit/public/usage.csv", "format": "CSV", "mimetype": "text/csv",
     "name": "Usage per day, dataset, resource and API (CSV)",
     "description": "One row per day, dataset, resource and API with the number of reads (formula cells neutralised)."},
    {"url": "/cockpit/public/usage.json", "format": "JSON", "mimetype": "application/json",
     "name": "Usage per day, dataset, resource and API (JSON)",
     "description": "The same rows as JSON: {since, until, rows: [...]}."},
)


def _writer(platform: Platform, org: str) -> Callable[[Connection], None] | None:
    port = platform.optional(CatalogPort)
    if port is None or not org:
        return None
    license_id = str(platform.settings.cockpit_usage_dataset_license)

    def tx(c: Connection) -> None:
        ref = port.ensure_dataset(c, ADMIN, metadata(org, license_id))
        for res in RESOURCES:
            port.ensure_resource(c, ADMIN, {**res, "package_id": ref.name})
    return tx


def _refused(exc: UrbanosError) -> bool:
    log.warning("the usage statistics are not described in the catalogue: %s %s", exc.message, exc.detail or "")
    return False


def register_sync(platform: Platform, org: str) -> bool:
    """Make the catalogue hold the usage-statistics dataset of ``org`` (the demo's synchronous form). False, with a
    warning in the log, when the catalogue refuses it (e.g. an organisation it does not know)."""
    tx = _writer(platform, org)
    if tx is None:
        return False
    try:
        platform.db.write_sync(tx)
    except UrbanosError as exc:
        return _refused(exc)
    return True


async def register(platform: Platform, org: str) -> bool:
    """:func:`register_sync` on the event loop."""
    tx = _writer(platform, org)
    if tx is None:
        return False
    try:
        await platform.db.write(tx)
    except UrbanosError as exc:
        return _refused(exc)
    return True


async def startup(platform: Platform) -> None:
    """Register the dataset at start when ``cockpit_usage_dataset_org`` names an organisation."""
    await register(platform, str(platform.settings.cockpit_usage_dataset_org or ""))


def demo(platform: Platform) -> None:
    """The demo publishes the usage statistics as ``cockpit_usage_dataset_org``, else as the demo's hamburg-lgv."""
    register_sync(platform, str(platform.settings.cockpit_usage_dataset_org or "") or DEMO_ORG)


__all__ = ["register", "register_sync", "startup", "demo", "metadata", "NAME", "RESOURCES", "DEMO_ORG"]
