"""The demo's planning project: "Jungfernstieg 2030" in Hamburg's city centre, 40 simulated contributions (seeded,
so every demo has the same ones) with comments and ratings; its heat map counts them by Stadtteil (the features
demo's ``hamburg-stadtteile`` collection)."""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from typing import Any

import orjson
from shapely.geometry import Point, shape

from urbanos.core.time import now_stored
from urbanos.errors import UrbanosError
from urbanos.participation.planning import store
from urbanos.participation.planning.opendata import PlanningOpenData, log
from urbanos.platform import Platform
from urbanos.storage import Connection

NAME = "jungfernstieg-2030"
BOUNDARIES = "hamburg-stadtteile"
AREA = {"type": "Polygon", "coordinates": [[[9.9790, 53.5480], [10.0080, 53.5480], [10.0120, 53.5560],
                                             [10.0020, 53.5620], [9.9820, 53.5600], [9.9790, 53.5480]]]}
CATEGORIES = ["Traffic", "Green spaces", "Public space", "Shops and cafés", "Other"]
RUBRICS = {"Traffic": ["Cycling", "Walking", "Deliveries"], "Green spaces": ["Trees", "Seating"]}
IDEAS = [
    ("More benches along the Alster", "Green spaces", "Seating"), ("A protected cycle lane", "Traffic", "Cycling"),
    ("Shade trees on the square", "Green spaces", "Trees"), ("Fewer delivery vans at noon", "Traffic", "Deliveries"),
    ("Drinking fountain", "Public space", None), ("Outdoor seating for cafés", "Shops and cafés", None),
    ("Wider pavements", "Public space", None), ("Better lighting at night", "Public space", None),
    ("Bike parking near the U-Bahn", "Traffic", "Cycling"), ("Market stalls on Saturdays", "Shops and cafés", None),
    ("Play area for children", "Public space", None), ("Public toilets", "Other", None),
]
CONTRIBUTIONS = 40


def _mac(key: str, subject: str) -> str:
    return hmac.new(bytes.fromhex(key), subject.encode(), hashlib.sha256).hexdigest()


def _fill(c: Connection, project: dict[str, Any]) -> None:
    rng = random.Random(2030)  # simulated demo data, not a secret  # nosec B311
    area = shape(AREA)
    minx, miny, maxx, maxy = area.bounds
    residents = [f"demo:resident-{i}" for i in range(25)]
    key, pid = project["author_key"], project["id"]
    ids = []
    for n in range(CONTRIBUTIONS):
        while True:
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if area.contains(p):
                break
        title, category, rubric = IDEAS[n % len(IDEAS)]
        geometry = {"type": "Point", "coordinates": [round(p.x, 6), round(p.y, 6)]}
        ids.append(store.insert_contribution(c, {
            "project_id": pid, "title": title, "body": f"{title}: suggested near this spot (simulated contribution "
                                                       f"{n + 1}).", "category": category, "rubric": rubric,
            "geometry": orjson.dumps(geometry).decode(), "minx": p.x, "miny": p.y, "maxx": p.x, "maxy": p.y,
            "author": store.label(c, pid, _mac(key, rng.choice(residents))), "created_at": now_stored()}))
    for cid in ids:
        for who in rng.sample(residents, rng.randint(0, 8)):
            store.rate(c, cid, _mac(key, who), 1 if rng.random() < 0.75 else -1)
        if rng.random() < 0.5:
            first = store.insert_comment(c, {"contribution_id": cid, "parent_id": None, "body": "Good idea.",
                                             "author": store.label(c, pid, _mac(key, rng.choice(residents))),
                                             "created_at": now_stored()})
            if rng.random() < 0.5:
                store.insert_comment(c, {"contribution_id": cid, "parent_id": first,
                                         "body": "Agreed, but keep the access for deliveries.",
                                         "author": store.label(c, pid, _mac(key, rng.choice(residents))),
                                         "created_at": now_stored()})


def load_demo(platform: Platform) -> None:
    """Create and fill the demo project (idempotent)."""

    def tx(c: Connection) -> None:
        if store.project(c, NAME) is not None:
            return
        orgs = [r[0] for r in c.fetchall("SELECT name FROM organizations ORDER BY name")]
        if not orgs:
            return
        org = "hamburg-lgv" if "hamburg-lgv" in orgs else orgs[0]
        store.insert_project(c, {
            "name": NAME, "title": "Jungfernstieg 2030",
            "description": "How should Hamburg's Jungfernstieg and the streets around the Inner Alster look in 2030? "
                           "Mark places on the map and tell us what you would change.",
            "owner_org": org, "area": orjson.dumps(AREA).decode(), "starts_at": now_stored(-30 * 86400),
            "ends_at": now_stored(60 * 86400), "categories": orjson.dumps(CATEGORIES).decode(),
            "rubrics": orjson.dumps(RUBRICS).decode(),
            "location_required": 1, "boundaries": BOUNDARIES, "closed": 0, "author_key": secrets.token_hex(32),
            "created_at": now_stored(), "modified_at": now_stored()})
        project = store.project(c, NAME)
        assert project is not None  # inserted just above  # nosec B101
        _fill(c, project)

    platform.db.write_sync(tx)

    def publish(c: Connection) -> None:
        project = store.project(c, NAME)
        if project is not None:
            PlanningOpenData(platform).ensure(c, project)

    try:
        platform.db.write_sync(publish)
    except UrbanosError as exc:  # the catalogue refused: the project works without its open data
        log.warning("the demo project's contributions are not published as open data: %s", exc.message)


__all__ = ["load_demo", "NAME", "AREA", "CATEGORIES", "RUBRICS", "BOUNDARIES"]
