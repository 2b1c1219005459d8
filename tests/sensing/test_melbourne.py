"""Melbourne pedestrian counts: local time to UTC intervals, import, demo data and the simulated live feed."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import BACKEND, TEST_DATA
from urbanos.sensing.melbourne import DEMO_DATASET, MelbourneImporter, live, load_demo, local_hour_interval

BUNDLED = Path(__file__).resolve().parents[2] / "urbanos" / "sensing" / "demo_data" / "pedestrian_hourly_counts_2017-03_2017-04.csv.gz"
MELBOURNE = ZoneInfo("Australia/Melbourne")


def recorded(day: str, hour: int) -> dict[int, list[int]]:
    """The bundled real counts of each sensor on weekday ``day`` (Monday …) at local hour ``hour``."""
    out: dict[int, list[int]] = defaultdict(list)
    with io.TextIOWrapper(gzip.open(BUNDLED, "rb"), encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Day"] == day and int(row["Time"]) == hour:
                out[int(row["Sensor_ID"])].append(int(row["Hourly_Counts"]))
    return out


def live_values(platform: Any, client: Any, local: datetime) -> dict[int, float]:
    """Run one round of the simulated feed at the Melbourne local time ``local``; the value written per sensor."""
    asyncio.run(live(platform, interval=0.0, stop_after=1, clock=lambda: local.astimezone(UTC)))
    body = client.get("/sta/v1.1/Things?$top=100&$expand=Datastreams/Observations($top=1;$orderby=id desc)").json()
    out = {}
    for t in body["value"]:
        obs = t["Datastreams"][0]["Observations"][0]
        assert obs["parameters"]["simulated"] is True
        out[int(t["properties"]["sensor_id"])] = obs["result"]
    return out


def test_local_hours_to_utc_with_daylight_saving() -> None:
    # summer time (AEDT, UTC+11)
    assert local_hour_interval("2017-01-10", 9) == ("2017-01-09T22:00:00.000000Z", "2017-01-09T23:00:00.000000Z")
    # winter (AEST, UTC+10)
    assert local_hour_interval("2016-07-01", 0) == ("2016-06-30T14:00:00.000000Z", "2016-06-30T15:00:00.000000Z")
    # end of summer time, 3 April 2016: 03:00 AEDT becomes 02:00 AEST, hour 2 happens twice -> two hours long
    assert local_hour_interval("2016-04-03", 1) == ("2016-04-02T14:00:00.000000Z", "2016-04-02T15:00:00.000000Z")
    assert local_hour_interval("2016-04-03", 2) == ("2016-04-02T15:00:00.000000Z", "2016-04-02T17:00:00.000000Z")
    assert local_hour_interval("2016-04-03", 3) == ("2016-04-02T17:00:00.000000Z", "2016-04-02T18:00:00.000000Z")
    # start of summer time, 2 October 2016: 02:00 AEST becomes 03:00 AEDT, hour 2 does not exist
    assert local_hour_interval("2016-10-02", 1) == ("2016-10-01T15:00:00.000000Z", "2016-10-01T16:00:00.000000Z")
    assert local_hour_interval("2016-10-02", 3) == ("2016-10-01T16:00:00.000000Z", "2016-10-01T17:00:00.000000Z")
    # the last hour of the day ends at local midnight
    assert local_hour_interval("2017-01-10", 23)[1] == "2017-01-10T13:00:00.000000Z"


def test_demo_load_is_idempotent_and_attributed(platform: Any, client: Any) -> None:
    load_demo(platform)
    things = client.get("/sta/v1.1/Things?$count=true&$expand=Locations,Datastreams").json()
    n_things = things["@iot.count"]
    assert n_things >= 5
    t = things["value"][0]
    assert t["properties"]["attribution"].startswith("City of Melbourne") and t["Locations"]
    assert t["Datastreams"][0]["unitOfMeasurement"]["name"] == "persons per hour"
    obs = client.get("/sta/v1.1/Observations?$count=true&$top=1&$orderby=phenomenonTime").json()
    n_obs = obs["@iot.count"]
    assert n_obs > 9000
    first = obs["value"][0]["phenomenonTime"]
    assert first == "2017-02-28T13:00:00Z/2017-02-28T14:00:00Z"  # 1 March 2017 00:00 AEDT
    load_demo(platform)
    assert client.get("/sta/v1.1/Things?$count=true").json()["@iot.count"] == n_things
    assert client.get("/sta/v1.1/Observations?$count=true&$top=0").json()["@iot.count"] == n_obs
    assert client.get("/sta/v1.1/FeaturesOfInterest?$count=true&$top=0").json()["@iot.count"] == n_things
    ds = platform.db.read_sync(lambda c: c.fetchone("SELECT access_level FROM datasets WHERE name = ?", (DEMO_DATASET,)))
    assert ds == ("open",)
    asyncio.run(live(platform, interval=0.0, stop_after=1))
    after = client.get("/sta/v1.1/Observations?$count=true&$top=0").json()["@iot.count"]
    assert after == n_obs + n_things
    latest = client.get("/sta/v1.1/Datastreams?$top=1&$expand=Observations($top=1;$orderby=phenomenonTime desc)").json()
    assert latest["value"][0]["Observations"][0]["parameters"]["simulated"] is True


def test_importer_scores_files(tmp_path: Path) -> None:
    imp = MelbourneImporter()
    other = tmp_path / "x.csv"
    other.write_text("a,b\n1,2\n")
    assert imp.score(str(other)) == 0
    demo = Path(__file__).resolve().parents[2] / "urbanos" / "sensing" / "demo_data"
    assert imp.score(str(demo)) > 0


@pytest.mark.skipif(BACKEND != "sqlite", reason="the importer's PostgreSQL path is covered by the demo load test")
def test_cli_import_of_the_full_counts_file(tmp_path: Path, db_url: str) -> None:
    cmd = [sys.executable, "-m", "urbanos.cli.main", "import", str(TEST_DATA / "melbourne" / "pedestrian_hourly_counts_2016-01_2017-04.csv"), "--dataset", "peds",
           "--data-dir", str(tmp_path / "d"), "--db", db_url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={k: v for k, v in __import__("os").environ.items()
                                                                             if not k.startswith("URBANOS_")})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "observations: " in out.stdout
    n = int(out.stdout.split("observations: ")[1].split()[0])
    assert n > 70000


def test_the_live_feed_replays_the_recorded_weekday_and_hour(platform: Any, client: Any) -> None:
    load_demo(platform)
    night = live_values(platform, client, datetime(2026, 12, 9, 3, 20, tzinfo=MELBOURNE))  # a Wednesday, 03:20
    real_night = recorded("Wednesday", 3)
    assert set(night) == set(real_night) and len(night) >= 5
    for sid, value in night.items():
        assert min(real_night[sid]) <= value <= max(real_night[sid]), (sid, value, real_night[sid])
        assert value < 100  # quiet: the real night counts, not a daytime profile
    rush = live_values(platform, client, datetime(2026, 12, 9, 8, 40, tzinfo=MELBOURNE))  # the same day, 08:40
    real_rush = recorded("Wednesday", 8)
    for sid, value in rush.items():
        assert min(real_rush[sid]) <= value <= max(real_rush[sid]), (sid, value, real_rush[sid])
    assert sum(rush.values()) > 20 * sum(night.values())


def test_the_simulated_part_is_said_where_people_look(platform: Any, client: Any) -> None:
    load_demo(platform)
    streams = client.get("/sta/v1.1/Datastreams?$top=100").json()["value"]
    assert streams
    for ds in streams:
        assert "simulated" in ds["description"].lower(), ds["description"]
        assert ds["properties"]["simulated"] is True
        assert "same weekday and hour" in ds["properties"]["simulation"]
    load_demo(platform)  # labelling is idempotent
    again = client.get("/sta/v1.1/Datastreams?$top=100").json()["value"]
    assert [d["description"] for d in again] == [d["description"] for d in streams]
