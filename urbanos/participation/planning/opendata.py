"""A planning project's contributions as open data: the catalogue dataset ``planning-<project>`` (open access,
owned by the project's organisation) whose feature collection of the same name is served by OGC API Features and
the downloads.

The dataset and its collection are made when the project is (through :meth:`~urbanos.ports.CatalogPort.ensure_dataset`
as the platform's admin; a refusal is logged and never fails the project), and at start for a project that has none
yet. From then on every write that changes what a contribution shows (a new one, its author's edit, a rating, a
comment, a moderation of it or of one of its comments) changes its one feature in the same transaction
(:meth:`~urbanos.ports.FeaturesPort.put_feature`); a hidden contribution is deleted from the collection.

A feature carries the contribution's public fields only: its id, title, text, category, rubric, creation time, the
rating sums and the number of visible comments, and its point or line. Never the author's label, nor anything that
would link contributions of one person.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.errors import Conflict, UrbanosError
from urbanos.governance import ADMIN
from urbanos.participation.planning import store
from urbanos.ports import CatalogPort, FeaturesPort

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.participation.planning")
PREFIX = "planning-"
FIELDS = [{"name": "id", "type": "integer"}, {"name": "title", "type": "string"}, {"name": "text", "type": "string"},
          {"name": "category", "type": "string"}, {"name": "rubric", "type": "string"},
          {"name": "created_at", "type": "datetime"}, {"name": "up", "type": "integer"},
          {"name": "down", "type": "integer"}, {"name": "comments", "type": "integer"}]
TIME_FIELD = "created_at"


def collection_name(project: dict[str, Any]) -> str:
    return f"{PREFIX}{project['name']}"


def metadata(project: dict[str, Any], license_id: str) -> dict[str, Any]:
    """The dataset as CKAN package fields."""
    title = str(project["title"])
    return {"name": collection_name(project), "owner_org": project["owner_org"], "access_level": "open",
            "license_id": license_id, "title": f"Contributions: {title}"[:200],
            "title_translated": {"de": f"Beiträge: {title}"[:200]},
            "notes": f"The visible contributions to the planning project \"{title}\" (title, text, category, rubric, "
                     "time, rating sums, number of comments, and the place as a point or line), updated with every "
                     "contribution, rating, comment and moderation. Authors are never published; hidden "
                     "contributions are removed.",
            "notes_translated": {"de": f"Die sichtbaren Beiträge zum Planungsvorhaben \"{title}\" (Titel, Text, "
                                       "Kategorie, Rubrik, Zeit, Bewertungen, Zahl der Kommentare und der Ort als Punkt "
                                       "oder Linie), bei jedem Beitrag, jeder Bewertung, jedem Kommentar und jeder "
                                       "Moderation aktualisiert. Verfassende werden nie veröffentlicht; ausgeblendete "
                                       "Beiträge werden entfernt."},
            "frequency": "UPDATE_CONT", "tags": ["participation", "planning", "DIPAS"], "theme": ["GOVE"]}


def resources(name: str) -> tuple[dict[str, Any], ...]:
    return (
        {"url": f"/ogcapi/collections/{name}", "format": "OGC API Features",
         "name": "Contributions (OGC API Features)", "description": "The contributions as features, with datetime= "
                                                                    "and bbox=."},
        {"url": f"/download/{name}.csv", "format": "CSV", "mimetype": "text/csv", "name": "Contributions (CSV)",
         "description": "Every visible contribution, one row each."},
        {"url": f"/download/{name}.geojson", "format": "GeoJSON", "mimetype": "application/geo+json",
         "name": "Contributions (GeoJSON)", "description": "Every visible contribution as a GeoJSON feature."},
    )


def feature(row: dict[str, Any]) -> dict[str, Any]:
    """The open-data feature of a visible contribution row (:func:`store.contributions`)."""
    props = {"id": int(row["id"]), "title": row["title"], "text": row["body"], "category": row["category"],
             "rubric": row["rubric"], "created_at": row["created_at"], "up": int(row["up"] or 0),
             "down": int(row["down"] or 0), "comments": int(row["comments"] or 0)}
    geometry = orjson.loads(row["geometry"]) if row["geometry"] else None
    return {"type": "Feature", "id": int(row["id"]), "properties": props, "geometry": geometry}


class PlanningOpenData:
    """Keeps each project's collection in step with its contributions (in the caller's write transaction)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.license = str(platform.settings.participation_open_data_license)

    def _ports(self) -> tuple[CatalogPort, FeaturesPort] | None:
        catalog, features = self.platform.optional(CatalogPort), self.platform.optional(FeaturesPort)
        if catalog is None or features is None:
            return None
        return catalog, features

    def _ours(self, c: Connection, ports: tuple[CatalogPort, FeaturesPort], project: dict[str, Any]) -> bool | None:
        """Whether the collection is this project's (None: it does not exist yet). A collection of that name in a
        dataset of another organisation, or of no dataset, is never written."""
        exists, dataset_id = ports[1].collection_dataset(c, collection_name(project))
        if not exists:
            return None
        ds = ports[0].dataset(c, collection_name(project))
        return ds is not None and ds.id == dataset_id and ds.owner_org == project["owner_org"]

    def publish_all(self, c: Connection, project: dict[str, Any]) -> int | None:
        """Make the dataset, fill its collection with every visible contribution and describe its distributions;
        the number of features (None: no catalogue or features capability). Conflict when a dataset of that name
        belongs to another organisation."""
        ports = self._ports()
        if ports is None:
            return None
        catalog, features = ports
        name = collection_name(project)
        found = catalog.dataset(c, name)
        if found is not None and found.owner_org != project["owner_org"]:
            raise Conflict(f"The dataset {name!r} belongs to another organisation.")
        if found is not None and found.access_level != "open":  # publishing would open what else it holds
            raise Conflict(f"The dataset {name!r} exists and is not open; rename it or open it to publish the "
                           "project's contributions.")
        ref = catalog.ensure_dataset(c, ADMIN, metadata(project, self.license))
        rows = store.contributions(c, project["id"])
        n = features.replace_collection(c, ADMIN, ref.name, name, [feature(r) for r in rows], fields=FIELDS,
                                        time_field=TIME_FIELD, title=f"Contributions: {project['title']}"[:200],
                                        description=metadata(project, self.license)["notes"])
        for res in resources(name):
            catalog.ensure_resource(c, ADMIN, {**res, "package_id": ref.name, "collection": name})
        return n

    def ensure(self, c: Connection, project: dict[str, Any], describe: bool = False) -> bool:
        """Publish the project's contributions when its collection does not exist yet (``describe``: and, when it
        does, make its dataset follow the project, e.g. a changed title); whether it is published."""
        ports = self._ports()
        if ports is None:
            return False
        ours = self._ours(c, ports, project)
        if ours is None:
            self.publish_all(c, project)
            return True
        if ours and describe:
            ports[0].ensure_dataset(c, ADMIN, metadata(project, self.license))
        return ours

    def unpublished(self, c: Connection, projects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The ``projects`` whose collection does not exist yet."""
        ports = self._ports()
        return [p for p in projects if self._ours(c, ports, p) is None] if ports is not None else []

    def changed(self, c: Connection, project: dict[str, Any], cid: int) -> bool:
        """Contribution ``cid`` was written in this transaction: its feature follows (made, replaced or deleted when
        hidden). False when the collection does not exist yet: the caller publishes after its commit
        (:func:`publish`), so that a refusal of the catalogue never fails the contribution."""
        ports = self._ports()
        if ports is None:
            return True
        ours = self._ours(c, ports, project)
        if ours is None:
            return False
        if not ours:
            return True
        rows = store.contributions(c, project["id"], ids=[cid])
        ports[1].put_feature(c, ADMIN, collection_name(project), cid, feature(rows[0]) if rows else None)
        return True


async def publish(platform: Platform, project: dict[str, Any], data: PlanningOpenData | None = None,
                  describe: bool = False) -> bool:
    """Publish the project's contributions when they are not yet (its own transaction; ``describe``: and describe
    the dataset anew); False, with a warning in the log, when the catalogue refuses (e.g. a dataset of that name of
    another organisation)."""
    data = data or PlanningOpenData(platform)
    try:
        return bool(await platform.db.write(lambda c: data.ensure(c, project, describe)))
    except UrbanosError as exc:
        log.warning("the contributions of planning project %r are not published as open data: %s %s",
                    project["name"], exc.message, exc.detail or "")
        return False


async def startup(platform: Platform) -> None:
    """Publish every project that has no collection yet (once; later starts write nothing)."""
    data = PlanningOpenData(platform)
    # one read finds the projects to publish: a start where every project is published writes nothing
    for project in await platform.db.read(lambda c: data.unpublished(c, store.projects(c))):
        await publish(platform, project, data)


__all__ = ["PlanningOpenData", "feature", "metadata", "collection_name", "publish", "startup", "FIELDS", "PREFIX"]
