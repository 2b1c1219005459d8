"""Service requests as open data: the catalogue dataset ``open311-requests`` (open access, with a licence) whose
feature collection of the same name is served by OGC API Features and the downloads.

The dataset is made once (through :meth:`~urbanos.ports.CatalogPort.ensure_dataset`, as the platform's admin, for
the organisation of the setting ``participation_open_data_org``; nothing is published while it is empty), its
collection filled with every public request, and from then on every write of a request changes its one feature in
the same transaction (:meth:`~urbanos.ports.FeaturesPort.put_feature`): a new request is added, an update replaces
it, a hidden request is deleted.

A feature carries the request's public fields only, its location rounded to :data:`GRID_DIGITS` decimals of a
degree (a grid of about 110 m by 70 m in Hamburg), no address, and no description when the service is sensitive.
Contact details live in a table this module never reads; photos only appear while neither the request nor the
photo is hidden.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from urbanos.errors import Conflict, UrbanosError
from urbanos.governance import ADMIN
from urbanos.participation.open311 import store
from urbanos.ports import CatalogPort, FeaturesPort

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.participation.open311")
NAME = "open311-requests"
GRID_DIGITS = 3  # 0.001° ≈ 111 m north-south, ≈ 67 m east-west at 53.5° N
FIELDS = [{"name": n, "type": "datetime" if n.endswith("_datetime") else "string"} for n in (
    "service_request_id", "service_code", "service_name", "status", "detailed_status", "agency_responsible",
    "requested_datetime", "updated_datetime", "description", "media_url")]
TIME_FIELD = "requested_datetime"
NOTES = ("The service requests (reports of potholes, litter, broken lights …) that residents sent through Open311 "
         "GeoReport v2 at /open311/v2/ and the report form, with their status and the agency responsible, updated "
         "with every new request and every staff update. Locations are coarsened: longitude and latitude are rounded "
         f"to {GRID_DIGITS} decimals of a degree (a grid of about 110 m by 70 m); addresses are left out. No contact "
         "details (names, e-mail, phone, device or account ids) are ever published; the description of services "
         "marked sensitive is left out, and hidden requests and photos are removed.")
NOTES_DE = ("Die Meldungen (Schlaglöcher, Müll, defekte Leuchten …), die Bürgerinnen und Bürger über Open311 GeoReport "
            "v2 unter /open311/v2/ und das Meldeformular geschickt haben, mit Status und zuständiger Stelle, bei jeder "
            "neuen Meldung und jeder Bearbeitung aktualisiert. Orte sind vergröbert: Länge und Breite auf "
            f"{GRID_DIGITS} Nachkommastellen gerundet (ein Raster von etwa 110 m mal 70 m); Adressen fehlen. "
            "Kontaktdaten (Namen, E-Mail, Telefon, Geräte- oder Konto-Kennungen) werden nie veröffentlicht; bei "
            "sensiblen Diensten fehlt die Beschreibung, ausgeblendete Meldungen und Fotos werden entfernt.")


def metadata(org: str, license_id: str) -> dict[str, Any]:
    """The dataset as CKAN package fields."""
    return {"name": NAME, "owner_org": org, "access_level": "open", "license_id": license_id,
            "title": "Service requests (Open311)", "title_translated": {"de": "Meldungen (Open311)"},
            "notes": NOTES, "notes_translated": {"de": NOTES_DE}, "frequency": "UPDATE_CONT",
            "tags": ["open311", "service requests", "participation", "Mängelmelder"], "theme": ["GOVE"]}


RESOURCES = (
    {"url": f"/ogcapi/collections/{NAME}", "format": "OGC API Features", "name": "Service requests (OGC API Features)",
     "description": "The requests as features, with datetime=, bbox= and the service's filters."},
    {"url": f"/download/{NAME}.csv", "format": "CSV", "mimetype": "text/csv", "name": "Service requests (CSV)",
     "description": "Every public request, one row each, with the coarsened location."},
    {"url": f"/download/{NAME}.geojson", "format": "GeoJSON", "mimetype": "application/geo+json",
     "name": "Service requests (GeoJSON)", "description": "Every public request as a GeoJSON feature."},
)


def coarse(x: float | None) -> float | None:
    return None if x is None else round(float(x), GRID_DIGITS)


def feature(row: dict[str, Any], sensitive: bool, base: str) -> dict[str, Any] | None:
    """The open-data feature of a request row (:func:`store.request_row`), or None when it is not public."""
    if row["hidden"]:
        return None
    media = None
    if not row["media_hidden"]:
        media = f"{base}/open311/v2/media/{row['media_key']}.jpg" if row["media_key"] else row["media_url"]
    lat, lon = coarse(row["lat"]), coarse(row["lon"])
    props = {"service_request_id": str(row["id"]), "service_code": row["service_code"],
             "service_name": row["service_name"], "status": row["status"], "detailed_status": row["state"],
             "agency_responsible": row["agency"], "requested_datetime": store.w3c(row["requested_at"]),
             "updated_datetime": store.w3c(row["updated_at"]),
             "description": None if sensitive else row["description"], "media_url": media}
    geometry = {"type": "Point", "coordinates": [lon, lat]} if lat is not None and lon is not None else None
    return {"type": "Feature", "id": int(row["id"]), "properties": props, "geometry": geometry}


class OpenData:
    """Keeps the collection in step with the requests (each method runs in the caller's write transaction)."""

    def __init__(self, platform: Platform, org: str | None = None) -> None:
        self.platform = platform
        self.org = org if org is not None else str(platform.settings.participation_open_data_org or "")
        self.license = str(platform.settings.participation_open_data_license)
        self.base = str(platform.settings.base_url or "").rstrip("/")

    def _ports(self) -> tuple[CatalogPort, FeaturesPort] | None:
        catalog, features = self.platform.optional(CatalogPort), self.platform.optional(FeaturesPort)
        if not self.org or catalog is None or features is None:
            return None
        return catalog, features

    def _all(self, c: Connection) -> list[dict[str, Any]]:
        sensitive = {s["code"] for s in store.services(c) if s["sensitive"]}
        out = []
        for row in store.public_rows(c):
            f = feature(row, row["service_code"] in sensitive, self.base)
            if f is not None:
                out.append(f)
        return out

    def publish_all(self, c: Connection) -> int | None:
        """Make the dataset, fill its collection with every public request and describe its distributions; the
        number of features (None: not published, no organisation set)."""
        ports = self._ports()
        if ports is None:
            return None
        catalog, features = ports
        found = catalog.dataset(c, NAME)
        if found is not None and (found.owner_org != self.org or found.access_level != "open"):
            # made by someone else: publishing as the platform would move it to this organisation, or open it
            raise Conflict(f"The dataset {NAME!r} exists and is not this open data's (organisation "
                           f"{found.owner_org!r}, access level {found.access_level!r}); rename it, or make it an "
                           f"open dataset of {self.org!r}, to publish the service requests.")
        ref = catalog.ensure_dataset(c, ADMIN, metadata(self.org, self.license))
        n = features.replace_collection(c, ADMIN, ref.name, NAME, self._all(c), fields=FIELDS, time_field=TIME_FIELD,
                                        title="Service requests (Open311)", description=NOTES)
        for res in RESOURCES:
            catalog.ensure_resource(c, ADMIN, {**res, "package_id": ref.name, "collection": NAME})
        return n

    def ensure(self, c: Connection, rid: int | None = None, everything: bool = False) -> bool:
        """Publish everything when the collection does not exist yet; whether it is published. When it exists (a
        concurrent first publication made it after the caller's transaction looked, and read the requests before
        that transaction committed), request ``rid`` follows, or (``everything``) every request."""
        ports = self._ports()
        if ports is None:
            return False
        if not ports[1].collection_dataset(c, NAME)[0] or everything:
            self.publish_all(c)
        elif rid is not None:
            self.changed(c, rid)
        return True

    def changed(self, c: Connection, rid: int) -> bool:
        """Request ``rid`` was written in this transaction: its feature follows (made, replaced or deleted). False
        when the collection does not exist yet: the caller publishes everything after its commit
        (:func:`publish`), so that a refusal of the catalogue never fails the request."""
        ports = self._ports()
        if ports is None:
            return True
        exists, dataset_id = ports[1].collection_dataset(c, NAME)
        if not exists:
            return False
        ours = ports[0].dataset(c, NAME)
        if ours is None or ours.id != dataset_id:  # a collection of that name in another dataset: never written
            return True
        row = store.request_row(c, rid)
        svc = store.service(c, row["service_code"]) if row is not None else None
        f = feature(row, bool(svc and svc["sensitive"]), self.base) if row is not None else None
        ports[1].put_feature(c, ADMIN, NAME, rid, f)
        return True

    def service_changed(self, c: Connection) -> bool:
        """A service changed (its name, whether it is sensitive): every feature follows; False as :meth:`changed`."""
        ports = self._ports()
        if ports is None:
            return True
        if not ports[1].collection_dataset(c, NAME)[0]:
            return False
        self.publish_all(c)
        return True


async def publish(platform: Platform, data: OpenData | None = None, rid: int | None = None,
                  everything: bool = False) -> bool:
    """Publish the dataset when it is not yet (its own transaction), else bring request ``rid`` (or ``everything``)
    in step (:meth:`OpenData.ensure`); False, with a warning in the log, when the catalogue refuses it (e.g. an
    organisation it does not know)."""
    data = data or OpenData(platform)
    try:
        return bool(await platform.db.write(lambda c: data.ensure(c, rid, everything)))
    except UrbanosError as exc:
        log.warning("the Open311 requests are not published as open data: %s %s", exc.message, exc.detail or "")
        return False


async def startup(platform: Platform) -> None:
    """Publish the dataset at start (once; later starts find the collection and write nothing)."""
    await publish(platform)


__all__ = ["OpenData", "feature", "metadata", "coarse", "startup", "publish", "NAME", "FIELDS", "GRID_DIGITS", "RESOURCES"]
