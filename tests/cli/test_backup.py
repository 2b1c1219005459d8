"""`urbanos backup` and `urbanos restore` on the back end under test: online under ingest, verified, migrated."""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from tests.cli_in_process import invoke
from tests.conftest import ADMIN_TOKEN, BACKEND, PG_URL, settings_for
from urbanos.cli.backup_io import pg_schema
from urbanos.platform import Platform
from urbanos.plugins import load_components
from urbanos.storage import upgrade

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
STATION = {
    "name": "counter", "description": "pedestrian counter",
    "Locations": [{"name": "c", "description": "c", "encodingType": "application/geo+json",
                   "location": {"type": "Point", "coordinates": [9.99, 53.55]}}],
    "Datastreams": [{
        "name": "count", "description": "people per hour",
        "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
        "unitOfMeasurement": {"name": "count", "symbol": "{people}", "definition": "http://unitsofmeasure.org/ucum.html"},
        "Sensor": {"name": "s", "description": "s", "encodingType": "application/pdf", "metadata": "x"},
        "ObservedProperty": {"name": "p", "definition": "http://example.org/p", "description": "p"},
    }],
}
TABLES = ("sta_things", "sta_datastreams", "sta_observations", "sta_features", "urbanos_migrations")


def run(*args: str, env: dict[str, str] | None = None, in_process: bool = False) -> subprocess.CompletedProcess[str]:
    """``urbanos ARGS`` as a process of its own, or inside the test process (tests/cli_in_process.py)."""
    if in_process:
        return invoke(list(args), env)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "urbanos.cli.main", *args], capture_output=True, text=True,
                          env=full_env, timeout=300)


def ok(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 0, (p.stdout, p.stderr)
    return p.stdout


def refused(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and p.stderr.startswith("urbanos: error:") and "Fix:" in p.stderr
    return p.stderr


@contextlib.contextmanager
def fresh_target(tmp_path: Path, source_url: str) -> Iterator[list[str]]:
    """CLI arguments naming an empty restore target: a data directory (SQLite), or a new PostgreSQL database
    ``urbanos_bk_<random>`` with the source's search_path, dropped afterwards."""
    folder = tmp_path / f"restored-{secrets.token_hex(3)}"
    if BACKEND == "sqlite":
        yield ["--data-dir", str(folder)]
        return
    import psycopg

    name = "urbanos_bk_" + secrets.token_hex(5)
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    schema = pg_schema(source_url)
    url = urlsplit(PG_URL)._replace(path="/" + name).geturl()
    if schema:
        url += ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema},public")
    try:
        yield ["--data-dir", str(folder), "--db", url]
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def target_url(args: list[str]) -> str:
    return args[3] if len(args) > 2 else f"sqlite:///{args[1]}/urbanos.db"


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url[len("sqlite:///"):])) as c:
            return list(c.execute(sql).fetchall())
    import psycopg

    with psycopg.connect(url) as c:
        return list(c.execute(sql).fetchall())


def _datastream(url: str) -> int:
    r = httpx.post(url + "/sta/v1.1/Things", json=STATION, headers=H, timeout=30)
    assert r.status_code == 201, r.text
    thing = r.headers["Location"].rsplit("(", 1)[1].rstrip(")")
    return int(httpx.get(f"{url}/sta/v1.1/Things({thing})/Datastreams", timeout=30).json()["value"][0]["@iot.id"])


class Ingest(threading.Thread):
    """POSTs Observations in a bounded loop, recording the ids acknowledged (201)."""

    def __init__(self, url: str, ds: int, n: int) -> None:
        super().__init__(daemon=True)
        self.url, self.ds, self.n = url, ds, n
        self.acked: list[int] = []
        self.started_ten = threading.Event()

    def run(self) -> None:
        with httpx.Client(headers=H, timeout=30) as client:
            for i in range(self.n):
                r = client.post(f"{self.url}/sta/v1.1/Datastreams({self.ds})/Observations", json={"result": i})
                assert r.status_code == 201, r.text
                self.acked.append(int(r.headers["Location"].rsplit("(", 1)[1].rstrip(")")))
                if len(self.acked) >= 20:
                    self.started_ten.set()


def test_backup_under_ingest_restores_everything_acknowledged(tmp_path, db_url, server_factory):
    source = server_factory(db_url)
    ds = _datastream(source.url)
    ingest = Ingest(source.url, ds, 400)
    ingest.start()
    assert ingest.started_ten.wait(60)
    before = list(ingest.acked)
    archive = tmp_path / "backup.tar.gz"
    out = ok(run("backup", "--db", db_url, "--data-dir", str(tmp_path / "srv0"), str(archive)))
    ingest.join(120)
    assert f"backup of the {BACKEND} database" in out and archive.is_file()
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["backend"] == BACKEND and manifest["format"] == 1 and manifest["migrations"]
    assert all(len(m["sha256"]) == 64 for m in manifest["members"].values())

    with fresh_target(tmp_path, db_url) as target:
        out = ok(run("restore", str(archive), *target))
        assert "restored the" in out
        url = target_url(target)
        stored = {r[0] for r in query(url, f"SELECT id FROM sta_observations WHERE datastream_id = {ds}")}
        assert set(before) <= stored, "an Observation acknowledged before the backup started is missing"
        assert stored <= set(ingest.acked)
        orphans = query(url, "SELECT count(*) FROM sta_observations o LEFT JOIN sta_datastreams d"
                             " ON d.id = o.datastream_id WHERE d.id IS NULL")
        assert orphans[0][0] == 0
        for table in TABLES:
            assert query(url, f"SELECT count(*) FROM {table}")[0][0] > 0, table
        restored = server_factory(url, args=["--data-dir", target[1]])
        r = httpx.get(f"{restored.url}/sta/v1.1/Datastreams({ds})/Observations?$count=true&$top=1", timeout=30)
        assert r.status_code == 200 and r.json()["@iot.count"] == len(stored)
        assert httpx.get(f"{restored.url}/api/3/action/package_list", timeout=30).status_code == 200
        assert httpx.get(f"{restored.url}/ogcapi/collections", headers={"Accept": "application/json"},
                         timeout=30).status_code == 200
        restored.stop()


def _prepared(tmp_path: Path, db_url: str, drop_last: int = 0) -> Path:
    """A database migrated (all but the last ``drop_last`` migrations) with a dashboard file; returns its data dir."""
    settings = settings_for(tmp_path / "src", db_url)
    platform = Platform.build(settings, load_components())
    platform.db.open()
    try:
        migrations = platform.migrations()
        upgrade(platform.db, migrations[: len(migrations) - drop_last])
    finally:
        platform.db.close()
    data = tmp_path / "src" / "data"
    (data / "dashboards").mkdir(parents=True, exist_ok=True)
    (data / "dashboards" / "air.yaml").write_text("title: air\n")
    return data


def test_tampered_archive_and_non_empty_target_are_refused(tmp_path, db_url):
    data = _prepared(tmp_path, db_url)
    archive = tmp_path / "b.tar.gz"
    ok(run("backup", "--db", db_url, "--data-dir", str(data), str(archive)))
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as dst:
        for member in src.getmembers():
            content = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "files/dashboards/air.yaml":
                content = b"title: </script>\n"
                member.size = len(content)
            dst.addfile(member, io.BytesIO(content))
    with fresh_target(tmp_path, db_url) as target:  # the refusals in process: the other tests start real ones
        err = refused(run("restore", str(tampered), *target, in_process=True))
        assert "does not match its manifest" in err and "air.yaml" in err
        assert not (Path(target[1]) / "dashboards").exists()  # nothing restored
        ok(run("restore", str(archive), *target))
        assert (Path(target[1]) / "dashboards" / "air.yaml").read_text() == "title: air\n"
        err = refused(run("restore", str(archive), *target, in_process=True))
        assert "not empty" in err and "--force" in err
        out = ok(run("restore", str(archive), *target, "--force", in_process=True))
        assert "restored the" in out
    refused(run("restore", str(tmp_path / "missing.tar.gz"), "--data-dir", str(tmp_path / "x"), in_process=True))


@pytest.mark.empty_db  # migrates step by step from an empty database
def test_backup_of_an_older_schema_restores_and_migrates(tmp_path, db_url):
    data = _prepared(tmp_path, db_url, drop_last=3)
    archive = tmp_path / "old.tar.gz"
    ok(run("backup", "--db", db_url, "--data-dir", str(data), str(archive)))
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    with fresh_target(tmp_path, db_url) as target:
        out = ok(run("restore", str(archive), *target))
        applied = [line for line in out.splitlines() if line.startswith("applied ")]
        assert len(applied) == 3
        total = query(target_url(target), "SELECT count(*) FROM urbanos_migrations")[0][0]
        assert total == len(manifest["migrations"]) + 3


@pytest.mark.skipif(BACKEND != "postgresql", reason="pg_dump is needed on PostgreSQL only")
def test_missing_pg_dump_names_the_fix(tmp_path, db_url):
    err = refused(run("backup", "--db", db_url, str(tmp_path / "b.tar.gz"), env={"PATH": "/nonexistent"}))
    assert "pg_dump is not installed" in err and "postgresql-client" in err


def test_help_texts_explain_themselves():
    out = ok(run("backup", "--help"))
    assert "online, consistent backup" in out and "pg_dump" in out and "Examples:" in out
    out = ok(run("restore", "--help"))
    assert "--force" in out and "checksums" in out and "migrate" in out
    assert "backup" in ok(run("--help")) and "restore" in ok(run("--help"))
