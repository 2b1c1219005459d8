"""Streaming downloads of collections (placeholder: filled in by the downloads module)."""

from __future__ import annotations

from typing import Any


def mount(app: Any, platform: Any) -> None:
    """Add the download routes."""
    return None
