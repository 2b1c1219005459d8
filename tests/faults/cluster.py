"""A throwaway PostgreSQL cluster of a test's own (never the shared one on 5432), that the test may stop and
start: initdb and pg_ctl of PostgreSQL 15, run as the ``postgres`` system user (initdb refuses root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

BIN = Path(os.environ.get("URBANOS_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(*cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *cmd], capture_output=True, text=True, check=check, timeout=timeout)


class Cluster:
    """``Cluster(port)``: ``start()``, ``stop(mode)``, ``url``; ``remove()`` stops it and deletes its files."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.base = Path(tempfile.mkdtemp(prefix="urbanos-pgfault-"))
        self.data = self.base / "data"
        os.chmod(self.base, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        _as_postgres(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                     "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40"
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.base / "log"), "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


def cluster_or_skip(port: int) -> Cluster:
    """A started cluster, or a skip that says why none can be made here."""
    if not (BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL binaries in {BIN} (set URBANOS_PG_BIN)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: initdb refuses root")
    try:
        cluster = Cluster(port)
        cluster.start()
    except (subprocess.CalledProcessError, KeyError, PermissionError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        pytest.skip(f"cannot start a PostgreSQL cluster of the test's own: {detail.strip()[:300]}")
    return cluster


class Standby(Cluster):
    """A streaming standby of ``primary``: ``pg_basebackup -R`` (replication over 127.0.0.1, which initdb's trust
    pg_hba allows), then started on ``port`` in hot standby."""

    def __init__(self, primary: Cluster, port: int) -> None:  # noqa: D107 - no initdb: the base backup is the data
        self.port = port
        self.base = Path(tempfile.mkdtemp(prefix="urbanos-pgstandby-"))
        self.data = self.base / "data"
        os.chmod(self.base, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        _as_postgres(str(BIN / "pg_basebackup"), "-D", str(self.data), "-R", "-X", "stream", "-c", "fast",
                     "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "--no-sync")


def standby_or_skip(primary: Cluster, port: int) -> Standby:
    """A started standby of ``primary``, or a skip that says why none can be made here."""
    if not (BIN / "pg_basebackup").exists():
        pytest.skip(f"no pg_basebackup in {BIN} (set URBANOS_PG_BIN)")
    try:
        standby = Standby(primary, port)
        standby.start()
    except (subprocess.CalledProcessError, KeyError, PermissionError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        pytest.skip(f"cannot make a standby of the test's cluster: {detail.strip()[:300]}")
    return standby
