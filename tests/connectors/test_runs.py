"""Runs: two runners racing for one connector (only one runs: the lease), the scheduler in a separate
``urbanos worker`` process, and the command line (add, list, run, show, remove)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.conftest import ADMIN_TOKEN, settings_for
from tests.connectors.feeds import Files, gbfs
from tests.connectors.helpers import ADMIN, add, dataset, datastreams, observations
from tests.local_http import Server
from urbanos.cli.main import cli
from urbanos.connectors.runner import Runner
from urbanos.connectors.scheduler import Scheduler
from urbanos.connectors.types.poll import JsonType
from urbanos.storage import Database, open_database


def test_two_runners_race_only_one_runs(cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    dataset(cplatform, "race")
    ids = datastreams(cclient, "race", "race v")
    files.values["/race.json"] = [{"t": "2026-01-01T00:00:00Z", "v": 1}]
    files.delay["/race.json"] = 0.5
    assert add(cclient, ADMIN, name="race", type="json", url=f"{feed.url}/race.json", dataset="race",
               mapping={"datastream": ids[0], "time": "t", "result": "v"}).status_code == 201
    a, b = Runner(cplatform, runner_id="a"), Runner(cplatform, runner_id="b")

    async def both() -> list[dict[str, Any]]:
        return list(await asyncio.gather(a.run("race"), b.run("race")))

    results = asyncio.run(both())
    assert sorted(r["status"] for r in results) == ["ok", "skipped"], results
    assert len([h for h in feed.hits if h.path == "/race.json"]) == 1
    assert observations(cclient, ids[0]) == [("2026-01-01T00:00:00Z", 1)]
    # the lease is released: the next run goes ahead
    assert asyncio.run(b.run("race"))["status"] == "ok"


def _cli(args: list[str], db: str, folder: Path) -> Any:
    base = ["--set", "outbound_allow=127.0.0.1", "--set", "log_level=warning"]
    return CliRunner().invoke(cli, base + args + ["--db", db, "--data-dir", str(folder)], catch_exceptions=False)


def _database(db_url: str, folder: Path, dataset_name: str) -> Database:
    """The test's database (migrated by a first command) with dataset ``dataset_name``; the caller closes it."""
    assert _cli(["connector", "list"], db_url, folder).exit_code == 0
    db = open_database(settings_for(folder, db_url))
    db.open()
    db.write_sync(lambda c: c.insert("datasets", {"name": dataset_name, "title": "t", "owner_org": None,
                                                  "access_level": "open", "created_at": "x", "modified_at": "x"}))
    return db


def test_cli_add_list_run_show_remove(tmp_path: Path, db_url: str, feed: Server, files: Files) -> None:
    files.values.update(gbfs(feed.url, "2.3", n=2, nveh=1, prefix="cli "))
    _database(db_url, tmp_path, "cli-bikes").close()
    r = _cli(["connector", "add", "clibikes", f"{feed.url}/gbfs/gbfs.json", "--type", "gbfs", "--dataset", "cli-bikes",
              "--every", "5m"], db_url, tmp_path)
    assert r.exit_code == 0 and "added connector clibikes" in r.output, r.output
    r = _cli(["connector", "run", "clibikes"], db_url, tmp_path)
    assert r.exit_code == 0 and "clibikes: ok created=7" in r.output, r.output
    r = _cli(["connector", "run", "clibikes"], db_url, tmp_path)
    assert "created=0 updated=0 unchanged=7" in r.output, r.output
    r = _cli(["connector", "list"], db_url, tmp_path)
    assert "clibikes\tgbfs\tcli-bikes\tevery 300s\thealthy" in r.output, r.output
    r = _cli(["connector", "show", "clibikes"], db_url, tmp_path)
    assert r.output.count("\tok\tmanual\t") == 2, r.output
    r = _cli(["connector", "run", "nope"], db_url, tmp_path)
    assert r.exit_code == 2 and "no connector 'nope'" in r.output
    r = _cli(["connector", "remove", "clibikes"], db_url, tmp_path)
    assert r.exit_code == 0 and "removed connector clibikes" in r.output
    assert "clibikes" not in _cli(["connector", "list"], db_url, tmp_path).output


def test_worker_process_runs_due_connectors(tmp_path: Path, db_url: str, feed: Server, files: Files) -> None:
    files.values.update(gbfs(feed.url, "3.0", n=2, nveh=0, prefix="w "))
    db = _database(db_url, tmp_path, "w-bikes")
    try:
        r = _cli(["connector", "add", "wbikes", f"{feed.url}/gbfs/gbfs.json", "--type", "gbfs", "--dataset", "w-bikes",
                  "--every", "1h"], db_url, tmp_path)
        assert r.exit_code == 0, r.output
        env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
        env.update({"URBANOS_ADMIN_TOKEN": ADMIN_TOKEN, "URBANOS_LOG_LEVEL": "warning"})
        proc = subprocess.Popen([sys.executable, "-m", "urbanos.cli.main", "--set", "outbound_allow=127.0.0.1",
                                 "--set", "connectors_tick_seconds=0.2", "worker", "--db", db_url, "--data-dir",
                                 str(tmp_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            status = None
            while time.monotonic() < deadline and status is None:
                time.sleep(0.3)
                status = db.read_sync(lambda c: c.fetchval("SELECT last_status FROM connector_configs WHERE name = 'wbikes'"))
            assert status == "ok"
            nxt = db.read_sync(lambda c: c.fetchval("SELECT next_run_at FROM connector_configs WHERE name = 'wbikes'"))
            assert nxt is not None  # scheduled an hour on
        finally:
            proc.terminate()
            out = proc.communicate(timeout=15)[0].decode(errors="replace")
        assert proc.returncode in (0, -15), out
        trigger = db.read_sync(lambda c: c.fetchval("SELECT trigger FROM connector_runs"))
        assert trigger == "schedule"
    finally:
        db.close()


def test_scheduler_a_slow_or_broken_connector_never_stops_the_others(
        cclient: Any, cplatform: Any, feed: Server, files: Files, monkeypatch: Any) -> None:
    for name in ("sched-slow", "sched-bug", "sched-fast"):
        dataset(cplatform, name)
        ids = datastreams(cclient, name, f"{name} v")
        files.values[f"/{name}.json"] = [{"t": "2026-01-01T00:00:00Z", "v": 1}]
        assert add(cclient, ADMIN, name=name, type="json", url=f"{feed.url}/{name}.json", dataset=name, every="1h",
                   mapping={"datastream": ids[0], "time": "t", "result": "v"}).status_code == 201
    original = JsonType.collect

    async def buggy(self: Any, job: Any) -> Any:
        if job.connector.name == "sched-bug":
            raise RuntimeError("a bug in a connector type")
        if job.connector.name == "sched-slow":
            await asyncio.sleep(3)  # a slow system (slower than the fetch timeout would allow)
        return await original(self, job)

    monkeypatch.setattr(JsonType, "collect", buggy)
    scheduler = Scheduler(Runner(cplatform, runner_id="sched"))

    async def go() -> tuple[list[str], dict[str, str]]:
        started = [n for n in await scheduler.tick() if n.startswith("sched-")]
        await asyncio.wait_for(scheduler.tasks["sched-fast"], 10)
        await asyncio.wait_for(scheduler.tasks["sched-bug"], 10)
        assert not scheduler.tasks["sched-slow"].done()  # still fetching, and the others are done
        await asyncio.wait_for(scheduler.tasks["sched-slow"], 10)
        await scheduler.stop()
        shown = {n: cclient.get(f"/connectors/{n}", headers=ADMIN).json() for n in started}
        return started, {n: c["last_status"] for n, c in shown.items()}

    started, status = asyncio.run(go())
    assert sorted(started) == ["sched-bug", "sched-fast", "sched-slow"]
    assert status == {"sched-slow": "ok", "sched-bug": "failed", "sched-fast": "ok"}
    bug = cclient.get("/connectors/sched-bug", headers=ADMIN).json()["runs"][0]
    assert bug["errors"] == ["internal error (RuntimeError)"] and bug["trigger"] == "schedule"
    assert cclient.get("/connectors/sched-fast", headers=ADMIN).json()["next_run_at"] > "2026"
