"""The Open311 tests' app: rate limits high enough for the tests that post many requests (the limits have a test
of their own)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def settings(make_settings: Any) -> Any:
    return make_settings(participation_posts_per_minute=1000, participation_posts_per_minute_per_address=1000)
