"""The privacy commands read the command line's settings as every other command does: ``--set`` without ``=`` is
refused with the fix named, before anything is opened (they carried their own reader, which set the setting to the
empty string and went on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_in_process import invoke


@pytest.mark.parametrize("argv", [["purge", "--dry-run"], ["audit", "verify"], ["privacy", "rules", "some-dataset"],
                                  ["privacy", "shred-key", "wifi-presence", "2026-12", "--yes"]])
def test_set_without_a_value_is_refused(tmp_path: Path, argv: list[str]) -> None:
    data = tmp_path / "data"
    got = invoke(["--set", "city_name", *argv, "--data-dir", str(data)])
    assert got.returncode == 2, (got.stdout, got.stderr)
    assert "is not NAME=VALUE" in got.stderr and "--set city_name=Hamburg" in got.stderr
    assert not data.exists()  # refused before anything was opened or made


def test_set_with_a_value_still_applies(tmp_path: Path) -> None:
    got = invoke(["--set", "city_name=Hamburg", "purge", "--dry-run", "--data-dir", str(tmp_path / "data")])
    assert got.returncode == 0, got.stderr
