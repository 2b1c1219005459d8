"""SQL of planning projects (the ``participation_planning_*`` tables and the shared ``organizations``)."""

from __future__ import annotations

from typing import Any

from urbanos.core.time import now_stored
from urbanos.storage import Connection

_P = ("id, name, title, description, owner_org, area, starts_at, ends_at, categories, location_required, boundaries,"
      " closed, author_key, created_at, modified_at, rubrics")
_C = "id, project_id, title, body, category, rubric, geometry, author, hidden, hidden_reason, created_at, edited_at"


def org_exists(c: Connection, name: str) -> bool:
    return c.fetchval("SELECT COUNT(*) FROM organizations WHERE name = ?", (name,)) > 0


def project(c: Connection, name: str) -> dict[str, Any] | None:
    rows = c.rows(f"SELECT {_P} FROM participation_planning_projects WHERE name = ?", (name,))
    return rows[0] if rows else None


def projects(c: Connection) -> list[dict[str, Any]]:
    return c.rows(f"SELECT {_P} FROM participation_planning_projects ORDER BY id")


def insert_project(c: Connection, values: dict[str, Any]) -> int:
    return c.insert("participation_planning_projects", values)


def update_project(c: Connection, pid: int, changes: dict[str, Any]) -> None:
    sets = "".join(f"{k} = ?, " for k in changes)
    c.execute(f"UPDATE participation_planning_projects SET {sets}modified_at = ? WHERE id = ?",
              (*changes.values(), now_stored(), pid))


def label(c: Connection, project_id: int, mac: str) -> int:
    """The number of the author's label in this project (a new one, the next number, on her first act). On
    PostgreSQL the project's row is locked first, so that two first acts at once never share a number."""
    if c.dialect.name == "postgresql":
        c.execute("SELECT id FROM participation_planning_projects WHERE id = ? FOR UPDATE", (project_id,))
    found = c.fetchval("SELECT label FROM participation_planning_authors WHERE project_id = ? AND author_mac = ?",
                       (project_id, mac))
    if found is not None:
        return int(found)
    nxt = int(c.fetchval("SELECT COALESCE(MAX(label), 0) FROM participation_planning_authors WHERE project_id = ?",
                         (project_id,))) + 1
    c.execute("INSERT INTO participation_planning_authors (project_id, author_mac, label) VALUES (?, ?, ?)",
              (project_id, mac, nxt))
    return nxt


def known_label(c: Connection, project_id: int, mac: str) -> int | None:
    """The number of the author's label in this project, None when she has not taken part (nothing is written)."""
    found = c.fetchval("SELECT label FROM participation_planning_authors WHERE project_id = ? AND author_mac = ?",
                       (project_id, mac))
    return None if found is None else int(found)


def insert_contribution(c: Connection, values: dict[str, Any]) -> int:
    return c.insert("participation_planning_contributions", values)


def contribution(c: Connection, project_id: int, cid: int) -> dict[str, Any] | None:
    rows = c.rows(f"SELECT {_C} FROM participation_planning_contributions WHERE project_id = ? AND id = ?",
                  (project_id, cid))
    return rows[0] if rows else None


def update_contribution(c: Connection, cid: int, changes: dict[str, Any]) -> None:
    sets = ", ".join(f"{k} = ?" for k in changes)
    c.execute(f"UPDATE participation_planning_contributions SET {sets} WHERE id = ?",  # nosec B608
              (*changes.values(), cid))


def contributions(c: Connection, project_id: int, category: str | None = None,
                  bbox: tuple[float, float, float, float] | None = None, limit: int = 10_000,
                  rubric: str | None = None, hidden: bool = False, ids: list[int] | None = None) -> list[dict[str, Any]]:
    """The visible (``hidden``: the hidden) contributions of a project, with their rating sums and comment counts,
    newest first; ``ids`` narrows them to those."""
    sql = (f"SELECT {', '.join('k.' + x.strip() for x in _C.split(','))},"
           " (SELECT COALESCE(SUM(CASE WHEN r.value > 0 THEN 1 ELSE 0 END), 0) FROM participation_planning_ratings r"
           "  WHERE r.contribution_id = k.id) AS up,"
           " (SELECT COALESCE(SUM(CASE WHEN r.value < 0 THEN 1 ELSE 0 END), 0) FROM participation_planning_ratings r"
           "  WHERE r.contribution_id = k.id) AS down,"
           " (SELECT COUNT(*) FROM participation_planning_comments m WHERE m.contribution_id = k.id"
           "  AND m.hidden = 0) AS comments"
           " FROM participation_planning_contributions k WHERE k.project_id = ? AND k.hidden = ?")
    args: list[Any] = [project_id, int(hidden)]
    if category is not None:
        sql += " AND k.category = ?"
        args.append(category)
    if rubric is not None:
        sql += " AND k.rubric = ?"
        args.append(rubric)
    if ids is not None:
        sql += f" AND k.id IN ({', '.join('?' for _ in ids) or 'NULL'})"
        args += ids
    if bbox is not None:
        sql += " AND k.maxx >= ? AND k.minx <= ? AND k.maxy >= ? AND k.miny <= ?"
        args += [bbox[0], bbox[2], bbox[1], bbox[3]]
    sql += " ORDER BY k.id DESC LIMIT ?"
    args.append(limit)
    return c.rows(sql, tuple(args))


def ratings(c: Connection, cid: int) -> tuple[int, int]:
    row = c.fetchall("SELECT COALESCE(SUM(CASE WHEN value > 0 THEN 1 ELSE 0 END), 0),"
                     " COALESCE(SUM(CASE WHEN value < 0 THEN 1 ELSE 0 END), 0)"
                     " FROM participation_planning_ratings WHERE contribution_id = ?", (cid,))[0]
    return int(row[0]), int(row[1])


def rate(c: Connection, cid: int, mac: str, value: int) -> bool:
    """Store the rating; True when it replaced the rater's earlier one."""
    cur = c.execute("UPDATE participation_planning_ratings SET value = ? WHERE contribution_id = ? AND author_mac = ?",
                    (value, cid, mac))
    if int(cur.rowcount) == 1:
        return True
    c.execute("INSERT INTO participation_planning_ratings (contribution_id, author_mac, value) VALUES (?, ?, ?)"
              " ON CONFLICT (contribution_id, author_mac) DO UPDATE SET value = excluded.value", (cid, mac, value))
    return False


_M = "id, contribution_id, parent_id, body, author, hidden, hidden_reason, created_at"


def comments(c: Connection, cid: int) -> list[dict[str, Any]]:
    return c.rows(f"SELECT {_M} FROM participation_planning_comments WHERE contribution_id = ? ORDER BY id", (cid,))


def hidden_comments(c: Connection, project_id: int, limit: int) -> list[dict[str, Any]]:
    """The hidden comments of a project's contributions (hidden or not), newest first."""
    return c.rows(f"SELECT {', '.join('m.' + x.strip() for x in _M.split(','))}"
                  " FROM participation_planning_comments m JOIN participation_planning_contributions k"
                  " ON k.id = m.contribution_id WHERE k.project_id = ? AND m.hidden = 1 ORDER BY m.id DESC LIMIT ?",
                  (project_id, limit))


def comment(c: Connection, cid: int, comment_id: int) -> dict[str, Any] | None:
    rows = c.rows(f"SELECT {_M} FROM participation_planning_comments"
                  " WHERE contribution_id = ? AND id = ?", (cid, comment_id))
    return rows[0] if rows else None


def insert_comment(c: Connection, values: dict[str, Any]) -> int:
    return c.insert("participation_planning_comments", values)


def moderate(c: Connection, table: str, row_id: int, hidden: bool, reason: str | None) -> None:
    assert table in ("contributions", "comments")  # the two tables of this module  # nosec B101
    c.execute(f"UPDATE participation_planning_{table} SET hidden = ?, hidden_reason = ? WHERE id = ?",  # nosec B608
              (int(hidden), reason, row_id))


__all__ = ["org_exists", "project", "projects", "insert_project", "update_project", "label", "known_label",
           "insert_contribution", "update_contribution", "contribution", "contributions", "ratings", "rate", "comments",
           "hidden_comments", "comment", "insert_comment", "moderate"]
