"""Melbourne pedestrian counts: local time to UTC intervals, import, demo data and the simulated live feed."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKEND, TEST_DATA
from urbanos.sensing.melbourne import DEMO_DATASET, MelbourneImporter, live, load_demo, local_hour_interval


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
    assert latest["value"][0]["Observations"][0]["parameters"] == {"simulated": True}


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
