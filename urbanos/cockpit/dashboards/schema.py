"""Migrations of the cockpit's dashboards."""

from __future__ import annotations

from urbanos.storage import Migration

MIGRATIONS: list[Migration] = []
