"""Where the rules live: ``privacy_rules`` (the current declaration per dataset) and ``privacy_rule_versions`` (every
declaration: who, what, when; old versions stay readable), held in memory per process and reloaded when the
newest version number moved (checked at most once a second, so a change in one server process counts in the others
within about a second). Until the first load the rules hook refuses every read of a dataset (fail closed).

:class:`Boundaries` keeps the polygons of the boundary collections that aggregate rules name, read through
:class:`urbanos.ports.FeaturesPort` as the platform's admin."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.core.time import now_stored
from urbanos.errors import ServiceUnavailable
from urbanos.governance import ADMIN
from urbanos.privacy.rules.aggregate import Areas
from urbanos.privacy.rules.model import Rule, RuleSet, rule_from_json

if TYPE_CHECKING:
    from urbanos.ports import FeaturesPort
    from urbanos.storage import Connection, Database

log = logging.getLogger("urbanos.privacy")


def _set(row: tuple[Any, ...]) -> RuleSet:
    rules = tuple(rule_from_json(r, i) for i, r in enumerate(orjson.loads(row[2])))
    return RuleSet(dataset_id=int(row[0]), version=int(row[1]), rules=rules, actor=row[3], at=row[4])


class RuleStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._sets: dict[int, RuleSet] | None = None
        self._seq: int | None = None
        self._task: asyncio.Task[None] | None = None

    def current(self, dataset_id: int) -> RuleSet | None:
        """The rules in force for a dataset (loaded at the first call when the process has not loaded them yet:
        a command-line read, say); ServiceUnavailable when they cannot be read, so nothing raw goes out."""
        sets = self._sets
        if sets is None:
            try:
                self.db.read_sync(self.load_sync)
            except Exception as exc:
                log.warning("could not load the privacy rules", exc_info=True)
                raise ServiceUnavailable("The privacy rules could not be loaded; try again in a moment.",
                                         code="privacy_rule_unavailable", headers={"Retry-After": "1"}) from exc
            sets = self._sets or {}
        return sets.get(dataset_id)

    def all(self) -> list[RuleSet]:
        return list((self._sets or {}).values())

    # -- loading -----------------------------------------------------------------------------------
    @staticmethod
    def _newest(c: Connection) -> int:
        row = c.fetchone("SELECT COALESCE(MAX(seq), 0) FROM privacy_rule_versions")
        return int(row[0]) if row else 0

    def load_sync(self, c: Connection) -> None:
        seq = self._newest(c)
        rows = c.fetchall("SELECT dataset_id, version, rules, actor, at FROM privacy_rules")
        self._sets = {int(r[0]): _set(r) for r in rows}
        self._seq = seq

    async def refresh(self) -> None:
        seq = await self.db.read_one(self._newest)
        if seq != self._seq:
            await self.db.read(self.load_sync)

    async def _follow(self, tick: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await tick()
            except Exception:  # noqa: BLE001 - keep following; the rules loaded stay in force
                log.warning("could not check the privacy rules' version", exc_info=True)

    def start(self, tick: Callable[[], Awaitable[None]] | None = None) -> None:
        """Check for changes every second (``tick``: what to run, :meth:`refresh` by default)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._follow(tick or self.refresh))

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    # -- writes and history ------------------------------------------------------------------------
    def save(self, c: Connection, dataset_id: int, dataset: str, rules: list[Rule], actor: str) -> RuleSet:
        row = c.fetchone("SELECT version FROM privacy_rules WHERE dataset_id = ?", (dataset_id,))
        version = (int(row[0]) if row else 0) + 1
        text = orjson.dumps([r.to_json() for r in rules]).decode()
        at = now_stored()
        if row:
            c.execute("UPDATE privacy_rules SET version = ?, rules = ?, actor = ?, at = ? WHERE dataset_id = ?",
                      (version, text, actor, at, dataset_id))
        else:
            c.execute("INSERT INTO privacy_rules (dataset_id, dataset, version, rules, actor, at) VALUES (?, ?, ?, ?, ?, ?)",
                      (dataset_id, dataset, version, text, actor, at))
        c.execute("INSERT INTO privacy_rule_versions (dataset_id, dataset, version, rules, actor, at) VALUES (?, ?, ?, ?, ?, ?)",
                  (dataset_id, dataset, version, text, actor, at))
        return RuleSet(dataset_id, version, tuple(rules), actor, at)

    def remember(self, rs: RuleSet) -> None:
        """Use ``rs`` at once in this process (after its transaction committed)."""
        if self._sets is not None:
            self._sets = {**self._sets, rs.dataset_id: rs}

    @staticmethod
    def history(c: Connection, dataset_id: int) -> list[dict[str, Any]]:
        rows = c.fetchall("SELECT version, rules, actor, at FROM privacy_rule_versions WHERE dataset_id = ?"
                          " ORDER BY version DESC", (dataset_id,))
        return [{"version": int(r[0]), "rules": orjson.loads(r[1]), "actor": r[2], "at": r[3]} for r in rows]


class Boundaries:
    """Polygons of boundary collections, by collection name, with a point lookup (shapely STRtree)."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._areas: dict[str, Areas] = {}
        self._datasets: dict[str, int | None] = {}

    def areas(self, collection: str) -> Areas | None:
        return self._areas.get(collection)

    def dataset_of(self, collection: str) -> int | None:
        """The dataset the loaded collection belongs to (None: none, or not loaded)."""
        return self._datasets.get(collection)

    async def load(self, features: FeaturesPort | None, collection: str, db: Database | None = None) -> int:
        """Read the polygons of ``collection`` (as the admin), and through ``db`` the dataset it belongs to; the
        number of areas."""
        import shapely
        from shapely.geometry import shape

        if features is None:
            return 0
        if db is not None:
            _exists, self._datasets[collection] = await db.read(partial(features.collection_dataset, name=collection))
        fc = await features.preview(ADMIN, collection, self.LIMIT)
        geoms, names = [], []
        for f in fc.get("features", []):
            g = f.get("geometry")
            if not g or g.get("type") not in ("Polygon", "MultiPolygon"):
                continue
            props = f.get("properties") or {}
            geoms.append(shape(g))
            names.append(str(props.get("name") or props.get("title") or f.get("id")))
        tree = shapely.STRtree(geoms)

        def area(lon: float, lat: float) -> str | None:
            hits = tree.query(shapely.Point(lon, lat), predicate="intersects")
            return names[int(min(hits))] if len(hits) else None

        self._areas[collection] = area
        return len(geoms)


__all__ = ["RuleStore", "Boundaries"]
