"""Planning contributions kept in step with their OGC API Features collection: the cost of the open data on the
writes of a planning project that already holds ``--n`` contributions (10,000 by default).

Two projects of the same size are filled, one published as the collection ``planning-<name>`` and one whose
open-data writer is switched off (the baseline: the same service without the features capability's port). Then,
in alternating rounds so that both see the same machine, ``--ops`` contributions and as many ratings go to each
through :class:`~urbanos.participation.planning.service.PlanningService` (in-process: the service, its database
transaction and the feature write; no HTTP). Prints p50 and p95 per write kind for both, and the time of the first
publication of the ``--n`` contributions (one full load, made once per project).

    python benchmarks/planning_open_data.py [--n 10000] [--ops 200] [--db postgresql://…  (an empty database)]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from typing import Any

import orjson

AREA = {"type": "Polygon", "coordinates": [[[9.9, 53.5], [10.1, 53.5], [10.1, 53.6], [9.9, 53.6], [9.9, 53.5]]]}
ORG = "bench-planning"


def _settings(db: str, data_dir: str) -> Any:
    from urbanos.plugins import settings_registry
    from urbanos.settings import load

    return load(settings_registry(), env={}, overrides={"data_dir": data_dir, "db": db, "log_level": "warning",
                                                        "mqtt_port": 0})


def _fill(platform: Any, project: dict[str, Any], n: int) -> None:
    from urbanos.core.time import now_stored
    from urbanos.participation.planning import store

    rnd = random.Random(project["id"])

    def tx(c: Any) -> None:
        for i in range(n):
            x, y = 9.9 + rnd.random() * 0.2, 53.5 + rnd.random() * 0.1
            store.insert_contribution(c, {
                "project_id": project["id"], "title": f"Idea {i}", "body": "A bench here.", "category": "Traffic",
                "geometry": orjson.dumps({"type": "Point", "coordinates": [x, y]}).decode(), "minx": x, "miny": y,
                "maxx": x, "maxy": y, "author": 1 + i % 500, "created_at": now_stored()})

    platform.db.write_sync(tx)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))] * 1000


async def run(db: str, n: int, ops: int) -> None:
    from urbanos.governance import ADMIN, Identity
    from urbanos.participation.planning import store
    from urbanos.participation.planning.service import PlanningService
    from urbanos.platform import Platform
    from urbanos.plugins import load_components

    with tempfile.TemporaryDirectory() as data_dir:
        platform = Platform.build(_settings(db, data_dir), load_components())
        platform.open()
        try:
            platform.db.write_sync(lambda c: c.execute(
                "INSERT INTO organizations (name, title, created_at) VALUES (?, ?, ?)",
                (ORG, "Bench", "2026-01-01T00:00:00.000000Z")))
            svc: PlanningService = platform.services["planning"]
            base = PlanningService(platform)
            base.open_data._ports = lambda: None  # type: ignore[method-assign]  # the baseline: no open data
            first: dict[str, float] = {}
            ids: dict[str, list[int]] = {}
            for name, s in (("published", svc), ("baseline", base)):
                await base.create(ADMIN, {"name": name, "title": name, "owner_org": ORG, "area": AREA,
                                          "starts_at": "2020-01-01", "ends_at": "2100-01-01",
                                          "categories": ["Traffic", "Green"]})
                project = platform.db.read_sync(lambda c, nm=name: store.project(c, nm))
                _fill(platform, project, n)
                ids[name] = [r[0] for r in platform.db.read_sync(lambda c, p=project: c.fetchall(
                    "SELECT id FROM participation_planning_contributions WHERE project_id = ?", (p["id"],)))]
                if s is svc:
                    t = time.perf_counter()
                    await platform.db.write(lambda c, p=project: svc.open_data.publish_all(c, p))
                    first[name] = time.perf_counter() - t
            times: dict[tuple[str, str], list[float]] = {}
            body = {"title": "Trees", "text": "More trees.", "category": "Green",
                    "geometry": {"type": "Point", "coordinates": [10.0, 53.55]}}
            for i in range(ops):
                for name, s in ((("published", svc), ("baseline", base)) if i % 2 == 0
                                else (("baseline", base), ("published", svc))):
                    who = Identity(subject=f"token:{1000 + i}", kind="token")
                    t = time.perf_counter()
                    k = await s.contribute(who, name, body)
                    times.setdefault((name, "contribute"), []).append(time.perf_counter() - t)
                    t = time.perf_counter()
                    await s.rate(who, name, ids[name][(i * 37) % n], {"value": 1})
                    times.setdefault((name, "rate"), []).append(time.perf_counter() - t)
                    assert k["id"]
            print(f"{platform.db.dialect.name}: projects of {n} contributions, {ops} writes of each kind")
            print(f"first publication of {n} contributions: {first['published']:.2f} s (once per project)")
            for kind in ("contribute", "rate"):
                pub, bl = times[("published", kind)], times[("baseline", kind)]
                print(f"{kind:10s} in step with the collection: p50 {statistics.median(pub) * 1000:6.2f} ms "
                      f"p95 {_pct(pub, 0.95):6.2f} ms | baseline without open data: p50 "
                      f"{statistics.median(bl) * 1000:6.2f} ms p95 {_pct(bl, 0.95):6.2f} ms")
            count = platform.db.read_sync(lambda c: c.fetchval(
                "SELECT COUNT(*) FROM participation_planning_contributions WHERE project_id ="
                " (SELECT id FROM participation_planning_projects WHERE name = 'published')"))
            print(f"published project holds {count} contributions")
        finally:
            platform.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--ops", type=int, default=200)
    ap.add_argument("--db", default="")
    a = ap.parse_args()
    db = a.db
    if not db:
        tmp = tempfile.mkdtemp()
        db = f"sqlite:///{tmp}/bench.db"
    asyncio.run(run(db, a.n, a.ops))


if __name__ == "__main__":
    main()
