"""The command line as a user meets it: help, versions, one-line errors with exit code 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from urbanos import __version__


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "urbanos.cli.main", *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout
    )


def one_line_error(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    assert lines[0].startswith("urbanos: error:")
    return lines[0]


def test_version() -> None:
    p = run("--version")
    assert p.returncode == 0 and __version__ in p.stdout


@pytest.mark.parametrize("cmd", [[], ["serve"], ["demo"], ["settings"], ["db"], ["db", "upgrade"], ["token"], ["token", "create"], ["token", "list"], ["token", "revoke"], ["import"]])
def test_every_help_explains_itself(cmd: list[str]) -> None:
    p = run(*cmd, "--help")
    assert p.returncode == 0, p.stderr
    assert "Usage:" in p.stdout
    # a sentence of explanation, not only the usage line
    assert len([line for line in p.stdout.splitlines() if line.strip()]) >= 4


def test_unknown_option() -> None:
    line = one_line_error(run("serve", "--bogus"))
    assert "--bogus" in line and "--help" in line


def test_bad_setting_value_names_setting_and_fix() -> None:
    line = one_line_error(run("serve", "--port", "eighty"))
    assert "--port" in line and "Fix:" in line
    line = one_line_error(run("settings", env={"URBANOS_LOG_LEVEL": "loud"}))
    assert "URBANOS_LOG_LEVEL" in line and "Fix:" in line


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        line = one_line_error(run("serve", "--port", str(port), "--data-dir", str(tmp_path), "--mqtt-port", "0"))
    assert "already in use" in line and "Fix:" in line


def test_unreachable_database(tmp_path: Path) -> None:
    line = one_line_error(run("serve", "--port", "0", "--db", "postgresql://nobody@127.0.0.1:1/none", "--data-dir", str(tmp_path)))
    assert "URBANOS_DB" in line and "Fix:" in line
    line = one_line_error(run("serve", "--db", "mysql://x/y", "--data-dir", str(tmp_path)))
    assert "not a supported database" in line


def test_settings_masks_secrets(tmp_path: Path) -> None:
    p = run("settings", env={"URBANOS_ADMIN_TOKEN": "very-secret-value"}, cwd=tmp_path)
    assert p.returncode == 0
    assert "very-secret-value" not in p.stdout
    assert "admin_token" in p.stdout and "****" in p.stdout and "(env; URBANOS_ADMIN_TOKEN)" in p.stdout


def test_config_file_and_set(tmp_path: Path) -> None:
    (tmp_path / "urbanos.toml").write_text('city_name = "Hamburg"\n')
    p = run("settings", cwd=tmp_path)
    assert "Hamburg" in p.stdout
    p = run("--set", "city_name=Melbourne", "settings", cwd=tmp_path)
    assert "Melbourne" in p.stdout


def test_token_commands_and_db_upgrade(tmp_path: Path, db_url: str) -> None:
    args = ["--db", db_url, "--data-dir", str(tmp_path)]
    up = run("db", "upgrade", *args)
    assert up.returncode == 0, up.stderr
    created = run("token", "create", "--role", "publisher", "--org", "mobility", "--name", "bike counters", *args)
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("uos_") and "cannot be shown again" in created.stderr
    listed = run("token", "list", *args)
    assert "publisher" in listed.stdout and "bike counters" in listed.stdout and secret not in listed.stdout
    token_id = secret.split("_")[1]
    assert run("token", "revoke", token_id, *args).returncode == 0
    assert "revoked" in run("token", "list", *args).stdout
    line = one_line_error(run("token", "revoke", "999", *args))
    assert "no token" in line
    assert "up to date" in run("db", "upgrade", *args).stdout


def test_bad_role_choice() -> None:
    one_line_error(run("token", "create", "--role", "emperor"))


def test_serve_starts_and_stops(tmp_path: Path, db_url: str) -> Any:
    from tests.conftest import start_server

    server = start_server(tmp_path / "srv", db_url)
    try:
        import httpx

        assert httpx.get(server.url + "/healthz").json()["status"] == "ok"
        assert "Demo City" in httpx.get(server.url + "/").text
    finally:
        server.stop()
    assert server.proc.returncode in (0, -15)
