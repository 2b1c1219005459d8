"""A full disk under a serving app (SQLite on a small tmpfs): writes answer 503 naming the cause, with
Retry-After, in the standard's format; /readyz reports it; reads go on; once space is freed both recover by
themselves, and nothing acknowledged is lost.

Needs to mount a tmpfs (root here); skips with the reason elsewhere. Takes about 3 s."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, BACKEND, settings_for
from urbanos.web.app import create_app

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite on a tmpfs; runs in the SQLite pass")
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def small_disk() -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="urbanos-full-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()[:200]}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


def _fill(path: Path) -> None:
    """Write zeros to ``path`` until the file system has no room left."""
    block = b"\0" * (1 << 16)
    with open(path, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(block)
        except OSError:
            pass
    for size in (4096, 512):  # the last scraps
        try:
            with open(path, "ab", buffering=0) as fh:
                while True:
                    fh.write(b"\0" * size)
        except OSError:
            pass


def test_disk_full_answers_503_and_recovers(small_disk: Path) -> None:
    app = create_app(settings_for(small_disk, f"sqlite:///{small_disk / 'urbanos.db'}"))
    big = "x" * 200_000
    acked = 0
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.post("/sta/v1.1/Things", json={"name": "full-0", "description": "d"}, headers=ADMIN).status_code == 201
        acked += 1
        filler = small_disk / "filler"
        _fill(filler)
        r = None
        for n in range(1, 400):  # until the WAL needs room it cannot get
            r = c.post("/sta/v1.1/Things", json={"name": f"full-{n}", "description": big}, headers=ADMIN)
            if r.status_code != 201:
                break
            acked += 1
        assert r is not None and r.status_code == 503, r.text if r is not None else ""
        assert int(r.headers["retry-after"]) >= 1
        assert r.json() == {"code": 503, "type": "error",
                            "message": "The database's disk is full; writes fail until space is freed."}
        problem = c.post("/admin/tokens", json={"role": "reader", "name": "full"}, headers=ADMIN)
        assert problem.status_code == 503 and problem.json()["code"] == "disk_full"
        assert problem.headers["content-type"] == "application/problem+json"
        ready = c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["storage"]["reason"] == "disk_full"
        assert c.get("/healthz").status_code == 200
        assert c.get("/sta/v1.1/Things", params={"$top": "1"}).status_code == 200  # reads go on
        filler.unlink()
        assert c.get("/readyz").status_code == 200  # space is back: ready before any write
        r = c.post("/sta/v1.1/Things", json={"name": "full-last", "description": "d"}, headers=ADMIN)
        assert r.status_code == 201, r.text
        acked += 1
        count = c.get("/sta/v1.1/Things", params={"$count": "true", "$top": "1",
                                                  "$filter": "startswith(name,'full-')"}).json()["@iot.count"]
        assert count == acked  # every acknowledged write is stored, none refused is
    app.state.platform.close()
