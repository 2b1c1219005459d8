"""Two server processes on one database append to one chain: their flushes take the chain's lock in turn."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from tests.conftest import ADMIN_TOKEN
from urbanos.cli.main import cli

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_two_processes_keep_one_valid_chain(server_factory: Any, db_url: str, tmp_path: Path) -> None:
    first = server_factory(db_url)
    second = server_factory(db_url)

    def mint(args: tuple[str, int]) -> int:
        url, i = args
        r = httpx.post(f"{url}/admin/tokens", json={"role": "reader", "name": f"app-{i}"}, headers=H, timeout=60)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    jobs = [(s.url, i) for i in range(12) for s in (first, second)]
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(mint, jobs))
    assert len(ids) == 24
    seen: list[dict[str, Any]] = []
    for s in (first, second):  # a read flushes what the process holds
        r = httpx.get(f"{s.url}/audit", params={"limit": 1000, "action": "token.created"}, headers=H, timeout=60)
        assert r.status_code == 200
        seen = r.json()["entries"]
    assert {int(e["object_id"]) for e in seen} == ids
    seqs = sorted(e["seq"] for e in seen)
    assert seqs == list(range(seqs[0], seqs[0] + 24))
    out = CliRunner().invoke(cli, ["audit", "verify", "--db", db_url, "--data-dir", str(tmp_path / "cli")])
    assert out.exit_code == 0, out.output


def test_a_stopping_server_appends_what_it_holds(server_factory: Any, db_url: str, tmp_path: Path) -> None:
    server = server_factory(db_url, env={"URBANOS_AUDIT_FLUSH_MS": "600000"})  # no timed flush during the test
    for i in range(3):
        r = httpx.post(f"{server.url}/admin/tokens", json={"role": "reader", "name": f"app-{i}"}, headers=H, timeout=60)
        assert r.status_code == 201
    server.stop()  # SIGTERM: the shutdown hook flushes
    out = CliRunner().invoke(cli, ["audit", "verify", "--db", db_url, "--data-dir", str(tmp_path / "cli")])
    assert out.exit_code == 0 and "3 entries verified" in out.output, out.output
