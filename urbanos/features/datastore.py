"""CKAN DataStore actions on feature tables (placeholder: filled in by the DataStore module)."""

from __future__ import annotations

from typing import Any


def register(platform: Any) -> None:
    """Register the datastore_* actions in ``platform.services["ckan_actions"]``."""
    return None
