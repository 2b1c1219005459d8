"""The demo's dashboard files are well defined, written once, and the simulators stay within their bounds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from urbanos.cockpit.dashboards.demo import occupancy_target, write_files
from urbanos.cockpit.dashboards.demo_files import FILES
from urbanos.cockpit.dashboards.files import load_folder
from urbanos.cockpit.dashboards.simulate import Feed, tick


def test_the_demo_files_load_without_problems_and_are_written_once(tmp_path: Path) -> None:
    assert sorted(write_files(tmp_path)) == sorted(FILES)
    loaded = load_folder(tmp_path)
    assert loaded.problems == [] and sorted(loaded.dashboards) == ["air-quality", "bins", "parking", "pedestrians"]
    (tmp_path / "bins.yaml").write_text("title: Mine\npanels:\n  - type: kpi\n    title: K\n    sta: Datastreams\n")
    assert write_files(tmp_path) == []  # a changed file is left as it is
    assert load_folder(tmp_path).dashboards["bins"].title == "Mine"


def test_the_simulators_stay_within_bounds() -> None:
    feed = Feed(parking={i: 0.0 for i in range(24)}, bins={100 + i: 99.0 for i in range(16)},
                air={200 + i: ("NO2" if i % 3 == 0 else "PM10", 1.0) for i in range(12)})
    rnd = random.Random(1)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    emptied = 0
    for k in range(2000):
        before = dict(feed.bins)
        out = tick(feed, start + timedelta(seconds=5 * k), rnd)
        assert len(out) <= 24 + 16 + 12  # at most one Observation per Datastream per tick
        for ds, v in out:
            if ds < 100:
                assert v in (0.0, 1.0)
            elif ds < 200:
                assert 0 <= v <= 100
                emptied += v < before[ds]
            else:
                assert 0 < v < 150
    assert emptied > 0  # bins are emptied by collection rounds
    assert all(0 < occupancy_target(h / 4) < 1 for h in range(96))
    assert occupancy_target(3) < 0.3 < 0.7 < occupancy_target(12.5)
