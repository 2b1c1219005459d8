"""The demo's finished budget vote: Hamburg-Nord decides on 400,000 EUR of neighbourhood projects with the Method of
Equal Shares; 800 simulated ballots (seeded, so every demo has the same result), counted and published."""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from typing import Any

import orjson

from urbanos.core.time import now_stored
from urbanos.participation.budget import store
from urbanos.participation.budget.tally import results
from urbanos.platform import Platform
from urbanos.storage import Connection

NAME = "hamburg-nord-2026"
PROJECTS = [
    ("Shade trees for the Barmbek market square", 60_000, 0.34, 0), ("Bike parking at U-Bahn Borgweg", 25_000, 0.41, 1),
    ("Repair the Osterbek canal footbridge", 120_000, 0.22, 1), ("Outdoor gym in the Stadtpark", 45_000, 0.30, 2),
    ("Book exchange cabins in Winterhude", 8_000, 0.27, 0), ("Swift nesting boxes on school roofs", 6_000, 0.18, 2),
    ("Playground water feature in Dulsberg", 70_000, 0.25, 3), ("Benches along the Alster canal path", 18_000, 0.38, 0),
    ("Youth music room in Langenhorn", 90_000, 0.15, 3), ("Safer crossing at Fuhlsbüttler Straße", 110_000, 0.31, 1),
    ("Community garden in Eppendorf", 30_000, 0.20, 2), ("Free drinking fountains at Ohlsdorf", 22_000, 0.29, 3),
]
VOTERS = 800
DISTRICTS = ["Barmbek", "Dulsberg", "Eppendorf", "Langenhorn", "Ohlsdorf", "Winterhude"]
AREA = {"type": "Polygon", "coordinates": [[[9.95, 53.57], [10.09, 53.57], [10.09, 53.69], [9.95, 53.69],
                                             [9.95, 53.57]]]}
# a few of the residents' ideas: (title, description, estimated cost, point, district, status, reason, project index)
IDEAS = [
    ("Trees for the market square", "The Barmbek market square has no shade in summer; plant trees around it.",
     50_000, [10.0453, 53.5878], "Barmbek", "accepted", None, 0),
    ("Bike parking at Borgweg", "The racks at U-Bahn Borgweg are always full; add covered ones.", 20_000,
     [10.0189, 53.5920], "Winterhude", "accepted", None, 1),
    ("More bike racks at Borgweg", "Bikes are locked to every fence at the station.", 15_000, [10.0195, 53.5918],
     "Winterhude", "merged", "The same place as the covered racks at Borgweg.", 1),
    ("Drinking water in Ohlsdorf", "Fountains at the cemetery gates and the station.", 25_000, [10.0313, 53.6214],
     "Ohlsdorf", "accepted", None, 11),
    ("A new U-Bahn line to Langenhorn", "Langenhorn needs a faster line to the centre.", 90_000_000, None,
     "Langenhorn", "rejected", "Far beyond this budget; the Hamburg transit plan is the place for it.", None),
    ("Heated benches", "Benches along the Alster that are warm in winter.", 40_000, [10.0102, 53.5801], None,
     "rejected", "Electric heating outdoors is against the district's climate plan.", None),
]


def _ballots(ids: list[int]) -> list[list[int]]:
    rng = random.Random(2026)  # simulated demo ballots, not a secret  # nosec B311
    out = []
    for _ in range(VOTERS):
        home = rng.randint(0, 3)
        ballot = [pid for pid, (_, _, pop, area) in zip(ids, PROJECTS, strict=True)
                  if rng.random() < pop * (1.8 if area == home else 0.7)]
        out.append(ballot[:5] or [ids[rng.randrange(len(ids))]])
    return out


def _ideas(c: Connection, bid: int, key: str, ids: list[int], now: str) -> None:
    """The residents' ideas behind some of the projects (authors: simulated residents, only as HMACs)."""
    for n, (title, text, cost, point, district, status, reason, index) in enumerate(IDEAS):
        author = hmac.new(bytes.fromhex(key), f"demo-resident-{n % 4}".encode(), hashlib.sha256).hexdigest()
        iid = store.insert_idea(c, {
            "budget_id": bid, "title": title, "description": text, "cost": cost,
            "geometry": orjson.dumps({"type": "Point", "coordinates": point}).decode() if point else None,
            "district": district, "author_mac": author, "status": "proposed", "created_at": now, "modified_at": now})
        project = ids[index] if index is not None else None
        store.decide_idea(c, iid, status, reason, project)
        if status == "accepted" and project is not None:
            store.update_project(c, project, {"idea_id": iid})


def load_demo(platform: Platform) -> None:
    """Create, fill and count the demo budget (idempotent)."""

    def tx(c: Connection) -> dict[str, Any] | None:
        if store.budget_by_name(c, NAME) is not None:
            return None
        orgs = [r[0] for r in c.fetchall("SELECT name FROM organizations ORDER BY name")]
        if not orgs:
            return None
        org = "hamburg-lgv" if "hamburg-lgv" in orgs else orgs[0]
        now = now_stored()
        author_key = secrets.token_hex(32)
        bid = store.insert_budget(c, {
            "name": NAME, "title": "Hamburg-Nord neighbourhood budget 2026",
            "description": "Residents of Hamburg-Nord proposed 40 ideas; 12 passed the feasibility review.",
            "owner_org": org, "amount": 400_000, "currency": "EUR", "phase": "results", "rule": "equal_shares",
            "min_choices": 1, "max_choices": 5, "created_at": now, "modified_at": now, "author_key": author_key,
            "area": orjson.dumps(AREA).decode(), "districts": orjson.dumps(DISTRICTS).decode()})
        ids = [store.insert_project(c, {"budget_id": bid, "title": t, "description": "", "cost": cost, "feasible": 1,
                                        "created_at": now}) for t, cost, _, _ in PROJECTS]
        _ideas(c, bid, author_key, ids, now)
        for ballot in _ballots(ids):
            c.execute("INSERT INTO participation_budget_ballots (ballot_id, budget_id, change_mac, choices)"
                      " VALUES (?, ?, NULL, ?)", (secrets.token_hex(16), bid, orjson.dumps(sorted(ballot)).decode()))
        return store.budget(c, bid)

    budget = platform.db.write_sync(tx)
    if budget is None:
        return
    projects = platform.db.read_sync(lambda c: store.projects(c, budget["id"]))
    raw = platform.db.read_sync(lambda c: store.ballots(c, budget["id"]))
    out = results(budget, projects, [frozenset(orjson.loads(r)) for r in raw])
    platform.db.write_sync(lambda c: store.save_results(c, budget["id"], orjson.dumps(out).decode(), now_stored()))


__all__ = ["load_demo", "NAME"]
