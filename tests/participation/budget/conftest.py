"""Fixtures of the budget tests: headless Chromium for the ballot test, as tests/browser provides it to its own
folder (the ``browser`` marker follows the fixture's name)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless Chromium; skipped where Chromium is not installed, except in CI, where it must be."""
    if not shutil.which(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
