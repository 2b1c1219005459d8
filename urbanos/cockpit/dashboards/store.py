"""Dashboards made in the portal (table ``cockpit_dashboards``): each belongs to an organisation (or to none), and
only a publisher of that organisation (or a platform-wide one) may change or delete it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from urbanos.core.jsontext import from_column
from urbanos.core.time import now_stored
from urbanos.errors import Conflict, NotFound

if TYPE_CHECKING:
    from urbanos.storage import Connection


@dataclass(frozen=True)
class Stored:
    slug: str
    owner_org: str | None
    definition: dict[str, Any]
    text: str
    created_by: str


def _row(r: Any) -> Stored:
    doc = from_column(r[2], empty={}) or {}
    return Stored(str(r[0]), r[1], doc.get("definition") or {}, str(doc.get("text") or ""), str(r[3]))


def all_rows(c: Connection) -> list[Stored]:
    return [_row(r) for r in c.fetchall("SELECT slug, owner_org, definition, created_by FROM cockpit_dashboards"
                                        " ORDER BY slug")]


def get(c: Connection, slug: str) -> Stored | None:
    r = c.fetchone("SELECT slug, owner_org, definition, created_by FROM cockpit_dashboards WHERE slug = ?", (slug,))
    return _row(r) if r else None


def create(c: Connection, slug: str, org: str | None, definition: dict[str, Any], text: str, who: str) -> None:
    if get(c, slug) is not None:
        raise Conflict(f"A dashboard {slug!r} exists already.")
    now = now_stored()
    c.insert("cockpit_dashboards", {"slug": slug, "owner_org": org, "created_by": who, "created_at": now,
                                    "modified_at": now,
                                    "definition": c.dialect.json_param({"definition": definition, "text": text})})


def update(c: Connection, slug: str, org: str | None, definition: dict[str, Any], text: str) -> None:
    n = c.execute("UPDATE cockpit_dashboards SET owner_org = ?, definition = ?, modified_at = ? WHERE slug = ?",
                  (org, c.dialect.json_param({"definition": definition, "text": text}), now_stored(), slug)).rowcount
    if not n:
        raise NotFound(f"No dashboard {slug!r}.")


def delete(c: Connection, slug: str) -> None:
    c.execute("DELETE FROM cockpit_dashboards WHERE slug = ?", (slug,))


def org_exists(c: Connection, org: str) -> bool:
    return c.fetchone("SELECT 1 FROM organizations WHERE name = ?", (org,)) is not None


__all__ = ["Stored", "all_rows", "get", "create", "update", "delete", "org_exists"]
