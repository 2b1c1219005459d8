"""Migrations of the cockpit's showcases (versions 100 and up): the showcases, the datasets each uses (by the
catalogue's dataset id, read through :class:`urbanos.ports.CatalogPort`) and the API token names (applications, as
the usage counts name them) linked to each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from urbanos.storage import Migration

if TYPE_CHECKING:
    from urbanos.storage import Connection


def _showcases(c: Connection) -> None:
    c.execute("CREATE TABLE cockpit_showcases (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL,"
              " notes TEXT NOT NULL, url TEXT NOT NULL, image_url TEXT NOT NULL, owner_org TEXT NOT NULL,"
              " created_by TEXT NOT NULL, created_at TEXT NOT NULL, modified_at TEXT NOT NULL)")
    c.execute("CREATE TABLE cockpit_showcase_datasets (showcase_id TEXT NOT NULL REFERENCES cockpit_showcases (id)"
              " ON DELETE CASCADE, dataset_id INTEGER NOT NULL, created_at TEXT NOT NULL,"
              " PRIMARY KEY (showcase_id, dataset_id))")
    c.execute("CREATE INDEX cockpit_showcase_datasets_ds ON cockpit_showcase_datasets (dataset_id)")
    c.execute("CREATE TABLE cockpit_showcase_apps (application TEXT PRIMARY KEY, showcase_id TEXT NOT NULL"
              " REFERENCES cockpit_showcases (id) ON DELETE CASCADE)")


MIGRATIONS: list[Migration] = [Migration("cockpit", 100, "showcases and the datasets they use", _showcases)]
