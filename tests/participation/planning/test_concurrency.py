"""Many first contributions, comments and ratings at once (separate transactions on PostgreSQL's pool): every author
gets a label of her own, and a rating sent twice at once is one rating."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.participation.planning.helpers import INSIDE, make_project, org, token
from urbanos.governance import Identity


def test_labels_and_ratings_at_once(client: Any, platform: Any) -> None:
    org(client, "plan-race")
    make_project(client, "race", "plan-race", token(client, "st-race", "steward", "plan-race"))
    service = platform.services["planning"]
    people = [Identity(subject=f"token:{900 + i}", kind="token") for i in range(8)]
    body = {"title": "At once", "text": "Same time", "category": "Traffic", "geometry": INSIDE}

    async def run() -> list[Any]:
        made = await asyncio.gather(*(service.contribute(p, "race", body) for p in people))
        cid = made[0]["id"]
        await asyncio.gather(*(service.rate(people[1], "race", cid, {"value": v}) for v in (1, -1, 1, 1)))
        return [made, await service.contribution("race", cid)]

    made, first = asyncio.run(run())
    assert sorted(int(k["author"].split()[1]) for k in made) == list(range(1, 9))
    assert first["rating"]["up"] + first["rating"]["down"] == 1
