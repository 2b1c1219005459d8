"""Helpers for the harvest tests: live-instance actions, a seeded source, and the harvester run as the CLI
(a process of its own, or the same command line inside the test process) or as the runner inside the test process."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.cli_in_process import invoke
from tests.conftest import ADMIN_TOKEN, settings_for

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def action(url: Any, name: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
    """A CKAN action of a live instance given by its URL, or of an instance in process given by its test client."""
    if not isinstance(url, str):
        if body is None:
            return url.get(f"/api/3/action/{name}", headers=headers or {})
        return url.post(f"/api/3/action/{name}", json=body, headers=headers or ADMIN)
    if body is None:
        return httpx.get(f"{url}/api/3/action/{name}", headers=headers or {}, timeout=30)
    return httpx.post(f"{url}/api/3/action/{name}", json=body, headers=headers or ADMIN, timeout=30)


@contextlib.contextmanager
def served_in_process(db: str, folder: Path) -> Iterator[Any]:
    """The instance of the database ``db`` served inside the test process: a test client over its app, which
    answers what a live server of the same database would (for reading what a harvest left)."""
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    app = create_app(settings_for(folder, db))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        app.state.platform.close()


def seed_source(url: str) -> None:
    assert action(url, "organization_create", {"name": "parks", "title": "Parks"}).status_code == 200
    for i in range(3):
        r = action(url, "package_create", {
            "name": f"trees-{i}", "title": f"Trees {i}", "notes": f"Tree register part {i}.", "owner_org": "parks",
            "license_id": "CC-BY-4.0", "tags": ["trees"], "frequency": "MONTHLY", "theme": ["ENVI"],
            "resources": [{"name": "CSV", "url": f"http://example.org/trees-{i}.csv", "format": "CSV"}]})
        assert r.status_code == 200, r.text
    r = action(url, "package_create", {"name": "internal-plans", "title": "Plans", "owner_org": "parks",
                                        "access_level": "internal", "grounds": ["security"]})
    assert r.status_code == 200, r.text


class Harvester:
    """``urbanos harvest ARGS --db DB --data-dir DIR`` with the test settings in ``URBANOS_*`` variables: a process
    of its own, or (``in_process``) the same command line inside the test process (tests/cli_in_process.py)."""

    def __init__(self, db: str, data_dir: Path, env: dict[str, str] | None = None, *, in_process: bool = False) -> None:
        self.db, self.data_dir, self.env, self.in_process = db, data_dir, env or {}, in_process

    def with_env(self, **env: str) -> Harvester:
        """The same harvester with more environment variables."""
        return Harvester(self.db, self.data_dir, {**self.env, **env}, in_process=self.in_process)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {"URBANOS_LOG_LEVEL": "warning", "URBANOS_HARVEST_TIMEOUT": "10",
               "URBANOS_HARVEST_RETRY_SECONDS": "3600", "URBANOS_OUTBOUND_ALLOW": "127.0.0.1", **self.env}
        argv = ["harvest", *args, "--db", self.db, "--data-dir", str(self.data_dir)]
        if self.in_process:
            return invoke(argv, env)
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
        full_env.update(env)
        return subprocess.run([sys.executable, "-m", "urbanos.cli.main", *argv], capture_output=True, text=True,
                              env=full_env, timeout=120)

    def dump(self, *tables: str) -> str:
        """Every row of these tables of the harvester's database, as text."""
        from urbanos.plugins import settings_registry
        from urbanos.settings import load
        from urbanos.storage import open_database

        db = open_database(load(settings_registry(), env={}, overrides={"db": self.db, "data_dir": str(self.data_dir)}))
        db.open()
        try:
            return "\n".join(repr(db.read_sync(lambda c, t=t: c.fetchall(f"SELECT * FROM {t}"))) for t in tables)
        finally:
            db.close()


class InProcess:
    """The same harvester, run inside the test process (saves a Python start per run)."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings.replace(outbound_allow="127.0.0.1")  # the sources of the tests are local servers

    def run(self, name: str | None = None) -> list[dict[str, Any]]:
        import asyncio

        from urbanos.catalog.harvest import runner
        from urbanos.platform import Platform
        from urbanos.plugins import load_components

        platform = Platform.build(self.settings, load_components())
        platform.open()
        try:
            return asyncio.run(runner.run(platform, name))
        finally:
            platform.close()

    def add(self, name: str, kind: str, url: str) -> None:
        import asyncio

        from urbanos.catalog.harvest import store
        from urbanos.storage import open_database

        db = open_database(self.settings)
        db.open()
        try:
            asyncio.run(store.add_source(db, name, kind, url))
        finally:
            db.close()


def only_counts(report: dict[str, Any]) -> dict[str, int]:
    return {k: report[k] for k in ("created", "updated", "deleted", "unchanged", "failed")}


def counts(out: str) -> dict[str, int]:
    line = out.strip().splitlines()[-1]
    return {k: int(v) for k, v in (p.split("=") for p in line.split() if "=" in p)}


def local_names(url: Any) -> set[str]:
    r = action(url, "package_search?rows=1000", headers=ADMIN)
    assert r.status_code == 200, r.text
    return {p["name"] for p in r.json()["result"]["results"]}
