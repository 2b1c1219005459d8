"""The demo's generated transit feeds read by the gtfs and gtfs-rt connectors, and served only by ``urbanos demo``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.connectors.feeds import Files
from tests.connectors.helpers import ADMIN, add, counts, dataset, run, sta
from tests.local_http import Server
from urbanos.connectors import demo_transit


def test_demo_feeds_load_through_the_connectors(cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    files.values["/gtfs.zip"] = demo_transit.gtfs_zip()
    files.values["/rt.pb"] = demo_transit.realtime(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    dataset(cplatform, "demo-transit-test")
    for name, kind, path, mapping in (("dt-static", "gtfs", "/gtfs.zip", {}),
                                      ("dt-live", "gtfs-rt", "/rt.pb", {"position": "9.99,53.55"})):
        assert add(cclient, ADMIN, name=name, type=kind, url=f"{feed.url}{path}", dataset="demo-transit-test",
                   mapping=mapping).status_code == 201
    static = run(cclient, "dt-static")
    assert static["status"] == "ok" and static["created"] == 12 + 2 + 2, static  # stops, routes, shapes
    assert counts(run(cclient, "dt-static")) == (0, 0, 16, 0)
    live = run(cclient, "dt-live")
    assert live["status"] == "ok" and live["created"] == 2 + 2, live  # two buses, two delays
    # half a minute later the buses moved; the delays change every five minutes
    files.values["/rt.pb"] = demo_transit.realtime(datetime(2026, 1, 5, 8, 0, 30, tzinfo=UTC))
    assert counts(run(cclient, "dt-live")) == (0, 2, 2, 0)
    delays = sta(cclient, "Things?$filter=properties/gtfs_route_id eq 'D1'&$expand=Datastreams/Observations")["value"]
    assert [o["result"] for o in delays[0]["Datastreams"][0]["Observations"]] == [-30]


def test_demo_feeds_are_served_by_the_demo_only(cclient: Any) -> None:
    assert cclient.get("/demo/gtfs/gtfs.zip").status_code == 404
