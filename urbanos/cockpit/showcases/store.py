"""SQL of the cockpit's showcase tables (``cockpit_showcases``, ``cockpit_showcase_datasets``,
``cockpit_showcase_apps``); every function runs in the caller's transaction."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from urbanos.storage import Connection

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_COLS = "id, name, title, notes, url, image_url, owner_org, created_by, created_at, modified_at"


def find(c: Connection, key: str) -> dict[str, Any] | None:
    """The showcase whose id (a UUID) or name is ``key``."""
    rows = c.rows(f"SELECT {_COLS} FROM cockpit_showcases WHERE id = ?", (key,)) if _UUID.match(key) else []
    if not rows:
        rows = c.rows(f"SELECT {_COLS} FROM cockpit_showcases WHERE name = ?", (key,))
    return rows[0] if rows else None


def all_rows(c: Connection) -> list[dict[str, Any]]:
    return c.rows(f"SELECT {_COLS} FROM cockpit_showcases ORDER BY title, name")


def rows_of_dataset(c: Connection, dataset_id: int) -> list[dict[str, Any]]:
    return c.rows(f"SELECT {_COLS} FROM cockpit_showcases WHERE id IN (SELECT showcase_id FROM cockpit_showcase_datasets"
                  " WHERE dataset_id = ?) ORDER BY title, name", (dataset_id,))


def dataset_ids(c: Connection, showcase_id: str) -> list[int]:
    return [int(r[0]) for r in c.fetchall("SELECT dataset_id FROM cockpit_showcase_datasets WHERE showcase_id = ?"
                                          " ORDER BY created_at, dataset_id", (showcase_id,))]


def showcases_of_datasets(c: Connection) -> list[tuple[int, str, str]]:
    """Every link as (dataset id, showcase name, showcase title)."""
    return [(int(r[0]), str(r[1]), str(r[2])) for r in c.fetchall(
        "SELECT l.dataset_id, s.name, s.title FROM cockpit_showcase_datasets l JOIN cockpit_showcases s"
        " ON s.id = l.showcase_id ORDER BY s.title, s.name")]


def applications(c: Connection, showcase_id: str) -> list[str]:
    return [str(r[0]) for r in c.fetchall("SELECT application FROM cockpit_showcase_apps WHERE showcase_id = ?"
                                          " ORDER BY application", (showcase_id,))]


def applications_map(c: Connection) -> dict[str, tuple[str, str]]:
    return {str(r[0]): (str(r[1]), str(r[2])) for r in c.fetchall(
        "SELECT a.application, s.name, s.title FROM cockpit_showcase_apps a JOIN cockpit_showcases s"
        " ON s.id = a.showcase_id")}


def showcase_of_application(c: Connection, application: str) -> str | None:
    row = c.fetchone("SELECT showcase_id FROM cockpit_showcase_apps WHERE application = ?", (application,))
    return str(row[0]) if row else None


def insert(c: Connection, values: dict[str, Any]) -> None:
    c.insert("cockpit_showcases", values, returning="id")


def update(c: Connection, showcase_id: str, values: dict[str, Any]) -> None:
    cols = ", ".join(f"{k} = ?" for k in values)
    c.execute(f"UPDATE cockpit_showcases SET {cols} WHERE id = ?", (*values.values(), showcase_id))  # nosec B608 - column names are the service's own keys


def delete(c: Connection, showcase_id: str) -> None:
    c.execute("DELETE FROM cockpit_showcase_apps WHERE showcase_id = ?", (showcase_id,))
    c.execute("DELETE FROM cockpit_showcase_datasets WHERE showcase_id = ?", (showcase_id,))
    c.execute("DELETE FROM cockpit_showcases WHERE id = ?", (showcase_id,))


def set_applications(c: Connection, showcase_id: str, apps: list[str]) -> None:
    c.execute("DELETE FROM cockpit_showcase_apps WHERE showcase_id = ?", (showcase_id,))
    for app in apps:
        c.execute("INSERT INTO cockpit_showcase_apps (application, showcase_id) VALUES (?, ?)", (app, showcase_id))


def link(c: Connection, showcase_id: str, dataset_id: int, ts: str) -> None:
    c.execute("INSERT INTO cockpit_showcase_datasets (showcase_id, dataset_id, created_at) VALUES (?, ?, ?)",
              (showcase_id, dataset_id, ts))


def unlink(c: Connection, showcase_id: str, dataset_id: int) -> None:
    c.execute("DELETE FROM cockpit_showcase_datasets WHERE showcase_id = ? AND dataset_id = ?", (showcase_id, dataset_id))
