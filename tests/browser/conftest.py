"""Headless Chromium (Playwright) for the portal tests that drive a browser: the ``chromium`` fixture, which the
``browser`` marker follows (tests/conftest.py), and the screenshots folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
SHOTS = Path(__file__).parent / "screenshots"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless Chromium; the test is skipped where Chromium is not installed, except in CI, where it must be."""
    if not shutil.which(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Any) -> list[str]:
    """The WCAG 2 A/AA violations axe-core (vendored, tests/browser/vendor/axe-core) finds on ``page``, one line
    each with the rule, its impact and up to three of the offending elements; empty when the page passes. axe-core is
    evaluated through the browser's devtools protocol, so the page's own Content-Security-Policy stays on."""
    page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;true")
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(str(n["target"]) for n in v["nodes"][:3])
            for v in result["violations"]]
