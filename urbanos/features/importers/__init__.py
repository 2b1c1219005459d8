"""File importers for ``urbanos import`` (placeholder: the importer modules fill this in)."""

from __future__ import annotations

from typing import Any


def importers() -> list[Any]:
    """The :class:`urbanos.plugins.Importer` instances this package offers."""
    return []
