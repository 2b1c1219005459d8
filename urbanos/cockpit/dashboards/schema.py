"""Migrations of the cockpit's dashboards (versions 50 and up): the dashboards publishers create in the portal.
Dashboards defined in YAML files stay in their files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from urbanos.storage import Migration

if TYPE_CHECKING:
    from urbanos.storage import Connection


def _dashboards(c: Connection) -> None:
    d = c.dialect
    c.execute(f"CREATE TABLE cockpit_dashboards (id {d.pk}, slug TEXT NOT NULL UNIQUE, owner_org TEXT,"
              f" definition {d.json_type} NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL,"
              " modified_at TEXT NOT NULL)")


MIGRATIONS: list[Migration] = [Migration("cockpit", 50, "dashboards made in the portal", _dashboards)]
