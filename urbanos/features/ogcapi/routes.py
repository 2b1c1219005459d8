"""OGC API Features routes."""

from __future__ import annotations

from typing import Any


def mount(app: Any, platform: Any) -> None:
    return None
