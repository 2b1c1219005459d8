"""$expand has one budget per request (entities read and queries run, over all levels): past it the request is
a 400 that names $top inside $expand as the fix, before the extra queries run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sensing.sta_helpers import Sta, datastream, thing


@pytest.fixture
def settings(make_settings: Any) -> Any:
    return make_settings(sta_expand_max_queries=6, sta_expand_max_entities=10)


@pytest.fixture
def things(client: Any, admin_headers: dict[str, str]) -> Sta:
    sta = Sta(client, admin_headers)
    for i in range(5):
        sta.create("/Things", thing(f"T{i}", Datastreams=[datastream(f"T{i} d{j}") for j in range(3)]))
    return sta


def _refused(r: Any, setting: str) -> None:
    assert r.status_code == 400, r.text
    message = r.json()["message"]
    assert setting in message and "$top inside $expand" in message, message


def test_entities_over_the_budget(things: Sta) -> None:
    _refused(things.get("/Things", params={"$expand": "Datastreams"}), "sta_expand_max_entities")
    fits = things.ok("/Things?$expand=Datastreams($top=2)")
    assert [len(t["Datastreams"]) for t in fits["value"]] == [2] * 5
    assert things.ok("/Things?$expand=Datastreams($top=2)") == fits  # the budget is per request


def test_queries_over_the_budget(things: Sta) -> None:
    # 5 parents, then 5 Datastreams: ten queries
    _refused(things.get("/Things", params={"$expand": "Datastreams($top=1;$expand=Observations)"}),
             "sta_expand_max_queries")
    fits = things.ok("/Things?$top=2&$expand=Datastreams($top=1;$expand=Observations)")
    assert len(fits["value"]) == 2 and all(len(t["Datastreams"]) == 1 for t in fits["value"])


def test_a_single_entity_spends_the_same_budget(things: Sta) -> None:
    first = things.ok("/Things?$top=1")["value"][0]["@iot.id"]
    one = things.ok(f"/Things({first})?$expand=Datastreams($expand=Thing($expand=Datastreams))")
    assert len(one["Datastreams"]) == 3  # 3 + 1 + 3 entities
    deeper = "Datastreams($expand=Thing($expand=Datastreams($expand=Thing($expand=Datastreams))))"  # 3 + 1 + 3 + 1 + 3
    _refused(things.get(f"/Things({first})", params={"$expand": deeper}), "sta_expand_max_entities")


def test_defaults_come_from_the_settings(client: Any, platform: Any) -> None:
    assert platform.settings.get("sta_expand_max_entities") == 10
    assert platform.settings.get("sta_expand_max_queries") == 6
