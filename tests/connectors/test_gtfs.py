"""GTFS static and GTFS-Realtime end to end against a live feed server: a zip and a protobuf FeedMessage made by the
test, a first run that creates, a rerun that changes nothing, a change that is picked up, a missing required file, a
missing shapes.txt, an oversized zip member, malformed protobuf, and a publisher of another organisation."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from google.transit import gtfs_realtime_pb2

from tests.connectors.feeds import Files
from tests.connectors.helpers import ADMIN, add, bearer, counts, dataset, run, sta, token
from tests.local_http import Server

T0 = 1_765_000_000

GTFS = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Test transit,https://example.org,Europe/Berlin\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon,location_type\n"
                 "S1,Main station,53.553,10.006,0\nS2,\"=cmd|' /C calc'!A0\",53.56,10.01,0\nS3,Harbour,53.545,9.97,0\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type,route_color\n"
                  "R1,A,1,Main line,3,FF0000\nR2,A,2,</script> line,3,00FF00\n",
    "trips.txt": "route_id,service_id,trip_id,shape_id\nR1,WD,T1,SH1\nR1,WD,T2,SH1\nR2,WD,T3,SH2\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,08:00:00,08:00:00,S1,1\n"
                      "T1,08:10:00,08:10:00,S2,2\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                    "WD,1,1,1,1,1,0,0,20260101,20261231\n",
    "shapes.txt": "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\nSH1,53.56,10.01,2\nSH1,53.553,10.006,1\n"
                  "SH1,53.57,10.02,3\nSH2,53.545,9.97,1\nSH2,53.55,9.98,2\n",
}


def gtfs_zip(**files: str | None) -> bytes:
    """A GTFS zip of :data:`GTFS` with ``files`` replaced (None leaves a file out)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in {**GTFS, **{k.replace("_txt", ".txt"): v for k, v in files.items()}}.items():
            if text is not None:
                z.writestr(name, text)
    return out.getvalue()


def feed_message(vehicles: dict[str, tuple[float, float]], delays: dict[str, tuple[str, int]]) -> bytes:
    msg = gtfs_realtime_pb2.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    msg.header.timestamp = T0
    for vid, (lat, lon) in vehicles.items():
        e = msg.entity.add(id=f"v-{vid}")
        e.vehicle.vehicle.id = vid
        e.vehicle.position.latitude, e.vehicle.position.longitude = lat, lon
        e.vehicle.trip.trip_id = f"trip-{vid}"
        e.vehicle.trip.route_id = "R1" if vid == "V1" else "R2"
        e.vehicle.timestamp = T0
    for trip, (route, delay) in delays.items():
        e = msg.entity.add(id=f"t-{trip}")
        e.trip_update.trip.trip_id = trip
        e.trip_update.trip.route_id = route
        e.trip_update.trip.start_date = "20260106"
        stu = e.trip_update.stop_time_update.add(stop_sequence=3)
        stu.arrival.delay = delay
    return bytes(msg.SerializeToString())


def _add(cclient: Any, cplatform: Any, feed: Server, name: str, kind: str, path: str) -> None:
    dataset(cplatform, name)
    r = add(cclient, ADMIN, name=name, type=kind, url=f"{feed.url}{path}", dataset=name)
    assert r.status_code == 201, r.text


def _items(cclient: Any, collection: str) -> list[dict[str, Any]]:
    r = cclient.get(f"/ogcapi/collections/{collection}/items?limit=100", headers=ADMIN)
    return list(r.json()["features"]) if r.status_code == 200 else []


@pytest.fixture
def small_limit(cplatform: Any) -> Iterator[None]:
    values = cplatform.settings.values
    old = values["connectors_gtfs_max_unzipped_bytes"]
    values["connectors_gtfs_max_unzipped_bytes"] = 200
    yield
    values["connectors_gtfs_max_unzipped_bytes"] = old


def test_gtfs_first_run_creates_rerun_changes_nothing_change_is_picked_up(
        cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    files.values["/gtfs.zip"] = gtfs_zip()
    _add(cclient, cplatform, feed, "transit", "gtfs", "/gtfs.zip")
    first = run(cclient, "transit")
    assert first["status"] == "ok", first
    assert counts(first) == (3 + 2 + 2, 0, 0, 0)
    stops = {f["properties"]["stop_id"]: f for f in _items(cclient, "transit-stops")}
    assert stops["S1"]["geometry"]["coordinates"] == [10.006, 53.553]
    assert stops["S2"]["properties"]["stop_name"] == "=cmd|' /C calc'!A0"  # kept as text
    routes = {f["properties"]["route_id"]: f for f in _items(cclient, "transit-routes")}
    assert routes["R2"]["properties"]["route_long_name"] == "</script> line" and routes["R2"]["geometry"] is None
    shapes = {f["properties"]["shape_id"]: f for f in _items(cclient, "transit-shapes")}
    assert shapes["SH1"]["geometry"]["coordinates"] == [[10.006, 53.553], [10.01, 53.56], [10.02, 53.57]]
    assert shapes["SH1"]["properties"]["route_short_name"] == "1" and shapes["SH2"]["properties"]["route_ids"] == "R2"

    assert counts(run(cclient, "transit")) == (0, 0, 7, 0)

    moved = GTFS["stops.txt"].replace("S3,Harbour,53.545,9.97", "S3,Harbour,53.5,9.9") + "S4,New stop,53.6,10.1,0\n"
    files.values["/gtfs.zip"] = gtfs_zip(stops_txt=moved)
    third = run(cclient, "transit")
    assert counts(third) == (1, 1, 6, 0), third
    stops = {f["properties"]["stop_id"]: f for f in _items(cclient, "transit-stops")}
    assert stops["S3"]["geometry"]["coordinates"] == [9.9, 53.5] and "S4" in stops


def test_gtfs_missing_required_file_fails_with_its_name(cclient: Any, cplatform: Any, feed: Server,
                                                         files: Files) -> None:
    files.values["/nt.zip"] = gtfs_zip(trips_txt=None)
    _add(cclient, cplatform, feed, "notrips", "gtfs", "/nt.zip")
    r = run(cclient, "notrips")
    assert r["status"] == "failed" and "trips.txt" in r["errors"][0], r
    assert _items(cclient, "notrips-stops") == []
    files.values["/nt.zip"] = gtfs_zip(calendar_txt=None)
    r = run(cclient, "notrips")
    assert r["status"] == "failed" and "calendar.txt or calendar_dates.txt" in r["errors"][0], r
    files.values["/nt.zip"] = b"PK\x03\x04 truncated"
    r = run(cclient, "notrips")
    assert r["status"] == "failed" and "not a GTFS zip" in r["errors"][0], r


def test_gtfs_without_shapes_loads_stops_and_routes_and_counts_bad_rows(cclient: Any, cplatform: Any, feed: Server,
                                                                        files: Files) -> None:
    bad = GTFS["stops.txt"] + "S9,Too,many,fields,0,x\nS10,Nowhere,,,0\n"
    files.values["/ns.zip"] = gtfs_zip(shapes_txt=None, stops_txt=bad)
    _add(cclient, cplatform, feed, "noshapes", "gtfs", "/ns.zip")
    r = run(cclient, "noshapes")
    assert r["status"] == "partial" and counts(r) == (3 + 2, 0, 0, 2), r
    assert any("stops.txt line 5" in e for e in r["errors"]) and any("stops.txt line 6" in e for e in r["errors"])
    assert len(_items(cclient, "noshapes-stops")) == 3 and len(_items(cclient, "noshapes-routes")) == 2
    assert cclient.get("/ogcapi/collections/noshapes-shapes", headers=ADMIN).status_code == 404


def test_gtfs_oversized_member_is_refused(cclient: Any, cplatform: Any, feed: Server, files: Files,
                                          small_limit: None) -> None:
    files.values["/big.zip"] = gtfs_zip(shapes_txt="shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
                                        + "SH1,53.5,10.0,1\n" * 20000)  # about 320 kB unzipped, 1 kB zipped
    _add(cclient, cplatform, feed, "bomb", "gtfs", "/big.zip")
    r = run(cclient, "bomb")
    assert r["status"] == "failed" and "connectors_gtfs_max_unzipped_bytes" in r["errors"][0], r
    assert _items(cclient, "bomb-stops") == []


def test_gtfs_rt_vehicles_and_delays(cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    files.values["/rt.pb"] = feed_message({"V1": (53.55, 10.0), "V2": (53.56, 10.01)}, {"T1": ("R1", 60),
                                                                                        "T2": ("R2", -30)})
    _add(cclient, cplatform, feed, "live", "gtfs-rt", "/rt.pb")
    first = run(cclient, "live")
    assert first["status"] == "ok" and counts(first) == (2 + 2, 0, 0, 0), first
    veh = {f["properties"]["vehicle_id"]: f for f in _items(cclient, "live-vehicles")}
    assert veh["V1"]["geometry"]["coordinates"] == [10.0, 53.55] and veh["V1"]["properties"]["trip_id"] == "trip-V1"
    things = sta(cclient, "Things?$filter=properties/gtfs_route_id eq 'R1'&$expand=Datastreams/Observations")["value"]
    assert len(things) == 1
    obs = things[0]["Datastreams"][0]["Observations"]
    assert [(o["result"], o["parameters"]["trip_id"]) for o in obs] == [(60, "T1")]

    assert counts(run(cclient, "live")) == (0, 0, 4, 0)

    files.values["/rt.pb"] = feed_message({"V1": (53.57, 10.02), "V2": (53.56, 10.01)}, {"T1": ("R1", 120),
                                                                                        "T2": ("R2", -30),
                                                                                        "T9": ("R9", 5)})
    third = run(cclient, "live")
    assert third["status"] == "partial" and counts(third) == (1, 1, 2, 1), third
    assert "route R9 has no position yet" in third["errors"][0]
    ds = things[0]["Datastreams"][0]["@iot.id"]
    got = sta(cclient, f"Datastreams({ds})/Observations?$orderby=id")["value"]
    assert [o["result"] for o in got] == [60, 120]
    assert len(sta(cclient, "Things?$filter=startswith(name, 'Route ')")["value"]) == 2


@pytest.mark.parametrize("body", [b"<html>not a feed</html>", b"", "truncated"])
def test_gtfs_rt_malformed_feed_fails_and_writes_nothing(body: Any, cclient: Any, cplatform: Any, feed: Server,
                                                          files: Files) -> None:
    whole = feed_message({"V1": (53.55, 10.0)}, {"TX": ("RX", 60)})
    files.values["/bad.pb"] = whole[: len(whole) - 7] if body == "truncated" else body
    name = f"badrt{len(body)}"
    _add(cclient, cplatform, feed, name, "gtfs-rt", "/bad.pb")
    r = run(cclient, name)
    assert r["status"] == "failed" and "GTFS-Realtime" in r["errors"][0], r
    assert _items(cclient, f"{name}-vehicles") == []
    assert sta(cclient, "Things?$filter=properties/gtfs_route_id eq 'RX'")["value"] == []


def test_publisher_of_another_organisation_cannot_add_gtfs(cclient: Any, cplatform: Any, feed: Server,
                                                            files: Files) -> None:
    dataset(cplatform, "tram-data", org="trams")
    dataset(cplatform, "bus-data", org="buses")
    files.values["/t.zip"] = gtfs_zip()
    buses, trams = token(cclient, "publisher", "buses", "b"), token(cclient, "publisher", "trams", "t")
    for kind, path in (("gtfs", "/t.zip"), ("gtfs-rt", "/t.pb")):
        body = {"name": f"tram-{kind}", "type": kind, "url": f"{feed.url}{path}", "dataset": "tram-data"}
        assert add(cclient, bearer(buses), **body).status_code == 403
        assert add(cclient, bearer(trams), **body).status_code == 201
    assert add(cclient, bearer(trams), name="x", type="gtfs", url=f"{feed.url}/t.zip", dataset="tram-data",
               mapping={"stops": 3}).status_code == 400
    assert counts(run(cclient, "tram-gtfs", bearer(trams)))[0] == 7
    assert cclient.post("/connectors/tram-gtfs/run", headers=bearer(buses)).status_code == 403


def test_gtfs_rt_trip_updates_only_use_the_mapping_position(cclient: Any, cplatform: Any, feed: Server,
                                                             files: Files) -> None:
    files.values["/tu.pb"] = feed_message({}, {"T5": ("R5", 30)})
    dataset(cplatform, "tuonly")
    r = add(cclient, ADMIN, name="tuonly", type="gtfs-rt", url=f"{feed.url}/tu.pb", dataset="tuonly",
            mapping={"position": "9.99,53.55"})
    assert r.status_code == 201, r.text
    assert counts(run(cclient, "tuonly")) == (1, 0, 0, 0)
    thing = sta(cclient, "Things?$filter=properties/gtfs_route_id eq 'R5'&$expand=Locations")["value"][0]
    assert thing["Locations"][0]["location"]["coordinates"] == [9.99, 53.55]
    assert _items(cclient, "tuonly-vehicles") == []  # a feed without vehicles makes no vehicles collection
    bad = add(cclient, ADMIN, name="tubad", type="gtfs-rt", url=f"{feed.url}/tu.pb", dataset="tuonly",
              mapping={"position": "north"})
    assert bad.status_code == 400
