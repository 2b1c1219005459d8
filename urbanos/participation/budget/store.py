"""SQL of participatory budgets (the ``participation_budget_*`` tables and the shared ``organizations``)."""

from __future__ import annotations

from typing import Any

from urbanos.core.time import now_stored
from urbanos.storage import Connection

_COLS = ("id, name, title, description, owner_org, amount, currency, phase, rule, min_choices, max_choices, "
         "voter_key, results, tallied_at, created_at, modified_at, author_key, area, districts")
_IDEA = ("id, budget_id, title, description, cost, geometry, district, status, reason, project_id, created_at, "
         "modified_at")


def org_exists(c: Connection, name: str) -> bool:
    return c.fetchval("SELECT COUNT(*) FROM organizations WHERE name = ?", (name,)) > 0


def budget(c: Connection, ref: int | str) -> dict[str, Any] | None:
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isascii() and ref.isdigit() and len(ref) < 19):
        rows = c.rows(f"SELECT {_COLS} FROM participation_budget_budgets WHERE id = ?", (int(ref),))
    else:
        rows = c.rows(f"SELECT {_COLS} FROM participation_budget_budgets WHERE name = ?", (str(ref),))
    return rows[0] if rows else None


def budget_by_name(c: Connection, name: str) -> dict[str, Any] | None:
    rows = c.rows(f"SELECT {_COLS} FROM participation_budget_budgets WHERE name = ?", (name,))
    return rows[0] if rows else None


def budgets(c: Connection) -> list[dict[str, Any]]:
    return c.rows("SELECT id, name, title, owner_org, amount, currency, phase, rule FROM participation_budget_budgets"
                  " ORDER BY id")


def insert_budget(c: Connection, values: dict[str, Any]) -> int:
    return c.insert("participation_budget_budgets", values)


def update_budget(c: Connection, budget_id: int, **values: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    c.execute(f"UPDATE participation_budget_budgets SET {sets}, modified_at = ? WHERE id = ?",
              (*values.values(), _now(), budget_id))


def close_vote(c: Connection, budget_id: int) -> None:
    """Close the vote: the HMAC key and the ballots' change HMACs are deleted (ballots become unlinkable)."""
    update_budget(c, budget_id, phase="results", voter_key=None)
    # written again in the order of their random ids: no trace of the order in which they were cast remains in
    # the table (SQLite's rowids, PostgreSQL's row positions) to be matched with request times
    rows = c.fetchall("SELECT ballot_id, choices FROM participation_budget_ballots WHERE budget_id = ?"
                      " ORDER BY ballot_id", (budget_id,))
    c.execute("DELETE FROM participation_budget_ballots WHERE budget_id = ?", (budget_id,))
    c.executemany("INSERT INTO participation_budget_ballots (ballot_id, budget_id, change_mac, choices)"
                  " VALUES (?, ?, NULL, ?)", [(r[0], budget_id, r[1]) for r in rows])


def projects(c: Connection, budget_id: int, feasible_only: bool = False) -> list[dict[str, Any]]:
    rows = c.rows("SELECT id, title, description, cost, feasible, idea_id, review_reason FROM participation_budget_projects"
                  " WHERE budget_id = ?" + (" AND feasible = 1" if feasible_only else "") + " ORDER BY id",
                  (budget_id,))
    for r in rows:
        r["feasible"] = bool(r["feasible"])
    return rows


def project(c: Connection, budget_id: int, pid: int) -> dict[str, Any] | None:
    found = [p for p in projects(c, budget_id) if p["id"] == pid]
    return found[0] if found else None


def insert_project(c: Connection, values: dict[str, Any]) -> int:
    return c.insert("participation_budget_projects", values)


def update_project(c: Connection, pid: int, changes: dict[str, Any]) -> None:
    if changes:
        sets = ", ".join(f"{k} = ?" for k in changes)
        c.execute(f"UPDATE participation_budget_projects SET {sets} WHERE id = ?", (*changes.values(), pid))


def insert_codes(c: Connection, budget_id: int, hashes: list[str]) -> None:
    c.executemany("INSERT INTO participation_budget_codes (budget_id, code_hash) VALUES (?, ?)",
                  [(budget_id, h) for h in hashes])


def use_code(c: Connection, budget_id: int, code_hash: str) -> bool:
    """Mark the code used; False when it is unknown or was used before (one UPDATE: two concurrent uses cannot both
    succeed)."""
    cur = c.execute("UPDATE participation_budget_codes SET used = 1 WHERE budget_id = ? AND code_hash = ? AND used = 0",
                    (budget_id, code_hash))
    return int(cur.rowcount) == 1


def add_voter(c: Connection, budget_id: int, mac: str, ignore_existing: bool = False) -> None:
    if ignore_existing and voter_exists(c, budget_id, mac):
        return
    c.execute("INSERT INTO participation_budget_voters (budget_id, voter_mac) VALUES (?, ?)", (budget_id, mac))


def voter_exists(c: Connection, budget_id: int, mac: str) -> bool:
    return bool(c.fetchval("SELECT COUNT(*) FROM participation_budget_voters WHERE budget_id = ? AND voter_mac = ?",
                           (budget_id, mac)))


def mark_voted(c: Connection, budget_id: int, mac: str) -> None:
    c.execute("UPDATE participation_budget_voters SET voted = 1 WHERE budget_id = ? AND voter_mac = ?",
              (budget_id, mac))


def put_ballot(c: Connection, budget_id: int, change_mac: str, choices: str, new_id: str) -> bool:
    """Store the ballot; True when it replaced the voter's earlier one."""
    old = c.fetchval("SELECT ballot_id FROM participation_budget_ballots WHERE change_mac = ?", (change_mac,))
    if old is not None:
        c.execute("UPDATE participation_budget_ballots SET choices = ? WHERE ballot_id = ?", (choices, old))
        return True
    c.execute("INSERT INTO participation_budget_ballots (ballot_id, budget_id, change_mac, choices) VALUES (?, ?, ?, ?)",
              (new_id, budget_id, change_mac, choices))
    return False


def ballots(c: Connection, budget_id: int) -> list[str]:
    return [r[0] for r in c.fetchall("SELECT choices FROM participation_budget_ballots WHERE budget_id = ?"
                                     " ORDER BY ballot_id", (budget_id,))]


def save_results(c: Connection, budget_id: int, text: str, when: str) -> None:
    c.execute("UPDATE participation_budget_budgets SET results = ?, tallied_at = ? WHERE id = ?",
              (text, when, budget_id))


def counts(c: Connection, budget_id: int) -> dict[str, int]:
    return {"ballots": int(c.fetchval("SELECT COUNT(*) FROM participation_budget_ballots WHERE budget_id = ?",
                                      (budget_id,))),
            "codes_unused": int(c.fetchval("SELECT COUNT(*) FROM participation_budget_codes WHERE budget_id = ?"
                                           " AND used = 0", (budget_id,)))}


def ideas(c: Connection, budget_id: int, limit: int, offset: int = 0,
          status: str | None = None) -> list[dict[str, Any]]:
    """A page of a budget's ideas, oldest first (``status``: only those)."""
    where, args = ("budget_id = ? AND status = ?", [budget_id, status]) if status else ("budget_id = ?", [budget_id])
    return c.rows(f"SELECT {_IDEA} FROM participation_budget_ideas WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
                  (*args, limit, offset))


def count_ideas(c: Connection, budget_id: int, status: str | None = None) -> int:
    where, args = ("budget_id = ? AND status = ?", [budget_id, status]) if status else ("budget_id = ?", [budget_id])
    return int(c.fetchval(f"SELECT COUNT(*) FROM participation_budget_ideas WHERE {where}", args))


def idea(c: Connection, budget_id: int, idea_id: int) -> dict[str, Any] | None:
    rows = c.rows(f"SELECT {_IDEA} FROM participation_budget_ideas WHERE budget_id = ? AND id = ?",
                  (budget_id, idea_id))
    return rows[0] if rows else None


def insert_idea(c: Connection, values: dict[str, Any]) -> int:
    return c.insert("participation_budget_ideas", values)


def decide_idea(c: Connection, idea_id: int, status: str, reason: str | None, project_id: int | None) -> bool:
    """Record the steward's decision on a proposed idea; False when it was decided meanwhile (one UPDATE)."""
    cur = c.execute("UPDATE participation_budget_ideas SET status = ?, reason = ?, project_id = ?, modified_at = ?"
                    " WHERE id = ? AND status = 'proposed'", (status, reason, project_id, _now(), idea_id))
    return int(cur.rowcount) == 1


def _now() -> str:
    return now_stored()


__all__ = ["budget", "budgets", "insert_budget", "update_budget", "close_vote", "projects", "project",
           "insert_project", "update_project", "insert_codes", "use_code", "add_voter", "voter_exists",
           "mark_voted", "put_ballot", "ballots", "save_results", "counts", "org_exists", "budget_by_name", "ideas", "idea",
           "insert_idea", "decide_idea"]
