"""Migrations of the cockpit's alerts."""

from __future__ import annotations

from urbanos.storage import Migration

MIGRATIONS: list[Migration] = []
