"""`urbanos demo` as a newcomer meets it: one banner that says what to open and how to get a token, no migration
log lines in it, and `urbanos import` without --data-dir writes where the demo reads (one default data directory)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKEND, free_port, start_server
from urbanos.cli.banner import describe_database
from urbanos.plugins import settings_registry
from urbanos.settings import load

PLACES = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"name": "Rathausmarkt"}, "geometry": {"type": "Point", "coordinates": [9.993, 53.550]}},
    {"type": "Feature", "properties": {"name": "Jungfernstieg"}, "geometry": {"type": "Point", "coordinates": [9.992, 53.553]}},
]}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    env.update({"URBANOS_ACCESS_LOG": "false", "URBANOS_PG_POOL_MIN": "1", "URBANOS_PG_POOL_MAX": "4"})
    return env


def _urbanos(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "urbanos.cli.main", *args], capture_output=True, text=True, cwd=cwd,
                          env=_env(), timeout=timeout)


def _wait(proc: subprocess.Popen[bytes], url: str, out: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the demo exited early:\n{out.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the demo did not start:\n{out.read_text(errors='replace')[-3000:]}")


def _banner(text: str) -> list[str]:
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("urbanos demo"))
    last = next(i for i in range(first, len(lines)) if lines[i].startswith("Stop it with Ctrl+C"))
    return lines[first : last + 1]


def test_demo_banner_and_an_import_without_data_dir_in_the_demos_data(tmp_path: Path, db_url: str) -> None:
    work = tmp_path / "newcomer"
    work.mkdir()
    (work / "places.geojson").write_text(json.dumps(PLACES))
    db = ["--db", db_url] if BACKEND == "postgresql" else []  # SQLite: the default, in the data directory
    data_dir = (work / "urbanos-data").resolve()

    imported = _urbanos("import", "places.geojson", "--dataset", "newcomer-places", *db, cwd=work)
    assert imported.returncode == 0, imported.stderr
    target = describe_database(load(settings_registry(), env={}, overrides={"data_dir": str(data_dir), "db": db_url if db else ""}))
    assert f"database: {target}" in imported.stdout, imported.stdout
    if not db:
        assert target == str(data_dir / "urbanos.db") and (data_dir / "urbanos.db").is_file()

    port, mqtt_port = free_port(), free_port()
    out = tmp_path / "demo.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "urbanos.cli.main", "demo", "--port", str(port), "--mqtt-port",
                                 str(mqtt_port), *db], stdout=fh, stderr=subprocess.STDOUT, cwd=work, env=_env())
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(proc, base, out)
        printed = out.read_text()
        assert "migration applied" not in printed  # one summary line instead, before the banner
        assert "database ready: " in printed.split("urbanos demo")[0]
        banner = _banner(printed)
        assert len(banner) <= 20
        assert not any(line.lstrip().startswith("{") for line in banner), banner  # no log line inside it
        text = "\n".join(banner)
        for url in (f"{base}/", f"{base}/sta/v1.1/", f"{base}/ogcapi/", f"{base}/api/3/action/", f"{base}/catalog.ttl",
                    f"{base}/docs", f"{base}/signin", f"mqtt://127.0.0.1:{mqtt_port}", f"ws://127.0.0.1:{port}/mqtt"):
            assert url in text, (url, text)
        assert str(data_dir) in text
        command = next(line.strip() for line in banner if line.strip().startswith("urbanos token create"))
        assert f"--data-dir {shlex.quote(str(data_dir))}" in command

        # the import made before the demo started is there
        assert httpx.get(f"{base}/api/3/action/package_show", params={"id": "newcomer-places"}).json()["success"] is True
        assert httpx.get(f"{base}/ogcapi/collections/newcomer-places/items", params={"f": "json"}).json()["numberReturned"] == 2

        # the printed command gives a token this demo accepts
        created = _urbanos(*shlex.split(command)[1:], cwd=tmp_path)  # from another folder: the command names the data
        assert created.returncode == 0, created.stderr
        who = httpx.get(f"{base}/admin/whoami", headers={"Authorization": f"Bearer {created.stdout.strip()}"})
        assert who.status_code == 200 and "admin" in who.text, who.text

        # the simulated live feed says so where people look
        page = httpx.get(f"{base}/datasets/melbourne-pedestrian-counts").text
        assert "simulated" in page
        stream = httpx.get(f"{base}/sta/v1.1/Datastreams", params={"$top": "1"}).json()["value"][0]
        assert "simulated" in stream["description"] and stream["properties"]["simulated"] is True
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.empty_db  # logs the migrations it applies
def test_serve_keeps_its_structured_logs(tmp_path: Path, db_url: str) -> None:
    server = start_server(tmp_path / "srv", db_url, env={"URBANOS_LOG_LEVEL": "info"})
    server.stop()
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    assert any(line["msg"] == "migration applied" and line["logger"] == "urbanos.storage" for line in lines)


def test_the_database_is_named_without_its_password(tmp_path: Path) -> None:
    registry = settings_registry()
    pg = load(registry, env={}, overrides={"db": "postgresql://city:s3cret@db.example:5432/urbanos?sslmode=require"})
    assert describe_database(pg) == "postgresql://city:***@db.example:5432/urbanos?sslmode=require"
    sqlite = load(registry, env={}, overrides={"data_dir": str(tmp_path / "d")})
    assert describe_database(sqlite) == str((tmp_path / "d" / "urbanos.db").resolve())
    assert describe_database(load(registry, env={}, overrides={"db": f"sqlite:///{tmp_path}/x.db"})) == str(tmp_path / "x.db")


def test_the_demo_points_at_an_earlier_demos_data(tmp_path: Path) -> None:
    (tmp_path / "urbanos-demo").mkdir()  # where the demo kept its data before every command shared ./urbanos-data
    p = _urbanos("demo", "--port", "0", "--mqtt-port", "0", "--db", "mysql://x/y", cwd=tmp_path)  # stops at the database
    assert p.returncode == 2
    assert "--data-dir ./urbanos-demo" in p.stderr and "not a supported database" in p.stderr


def test_the_demo_logs_plain_text_on_a_terminal(make_settings: Any) -> None:
    """Under the banner on a terminal the demo's logs are text lines; to a pipe, or when a format was chosen, they
    stay as configured (JSON lines by default, as `urbanos serve` writes them)."""
    from urbanos.cli.main import demo_log_format

    default = make_settings()
    assert default.sources.get("log_format") == "default" and default.log_format == "json"
    assert demo_log_format(default, terminal=True).log_format == "text"
    assert demo_log_format(default, terminal=False).log_format == "json"
    chosen = make_settings(log_format="json")
    assert demo_log_format(chosen, terminal=True).log_format == "json"
