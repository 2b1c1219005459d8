"""SQL of the connectors' own tables (:mod:`urbanos.connectors.schema`): connectors, leases, runs and items.

Functions take a :class:`~urbanos.storage.Connection` and run in the caller's transaction. Times are stored text
(:func:`urbanos.core.time.format_stored`), so text order is time order on both back ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from urbanos.core.jsontext import dumps
from urbanos.errors import Conflict, NotFound
from urbanos.storage import Connection

COLUMNS = ("id", "name", "type", "url", "dataset_id", "every_seconds", "cron", "mapping", "secret", "owner_kind",
           "owner_subject", "owner_token_id", "enabled", "created_at", "updated_at", "next_run_at", "last_run_at",
           "last_status", "failures", "healthy", "state", "lease_owner", "lease_until")
EDITABLE = ("url", "every_seconds", "cron", "mapping", "enabled", "next_run_at")
COUNTS = ("created", "updated", "unchanged", "failed")
MAX_ERRORS = 10


def _json(value: Any, empty: Any) -> Any:
    if value is None or value == "":
        return empty
    return orjson.loads(value) if isinstance(value, str | bytes) else value


@dataclass
class Connector:
    """A connector as stored (``mapping`` and ``state`` decoded)."""

    id: int
    name: str
    type: str
    url: str
    dataset_id: int
    every_seconds: int | None
    cron: str | None
    mapping: dict[str, Any]
    secret: str | None
    owner_kind: str
    owner_subject: str
    owner_token_id: int | None
    enabled: bool
    created_at: str
    updated_at: str
    next_run_at: str | None
    last_run_at: str | None
    last_status: str | None
    failures: int
    healthy: bool
    state: dict[str, Any] = field(default_factory=dict)
    lease_owner: str | None = None
    lease_until: str | None = None

    @classmethod
    def from_row(cls, r: tuple[Any, ...]) -> Connector:
        v = dict(zip(COLUMNS, r, strict=True))
        v["mapping"], v["state"] = _json(v["mapping"], {}), _json(v["state"], {})
        v["enabled"], v["healthy"] = bool(v["enabled"]), bool(v["healthy"])
        v["dataset_id"], v["failures"] = int(v["dataset_id"]), int(v["failures"] or 0)
        return cls(**v)


SELECT = f"SELECT {', '.join(COLUMNS)} FROM connector_configs"


def get(c: Connection, name: str) -> Connector | None:
    row = c.fetchone(f"{SELECT} WHERE name = ?", (name,))
    return None if row is None else Connector.from_row(row)


def require(c: Connection, name: str) -> Connector:
    found = get(c, name)
    if found is None:
        raise NotFound(f"There is no connector {name!r}.")
    return found


def all_connectors(c: Connection) -> list[Connector]:
    return [Connector.from_row(r) for r in c.fetchall(f"{SELECT} ORDER BY name")]


def due(c: Connection, now: str, owner: str = "") -> list[Connector]:
    """Enabled connectors whose next run is due and whose lease is free (or ``owner``'s: a live link's)."""
    return [Connector.from_row(r) for r in c.fetchall(
        f"{SELECT} WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= ?"
        " AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?) ORDER BY next_run_at", (now, now, owner))]


def insert(c: Connection, values: dict[str, Any]) -> Connector:
    if get(c, values["name"]) is not None:
        raise Conflict(f"A connector named {values['name']!r} exists already.")
    vals = dict(values)
    vals["mapping"] = dumps(vals.get("mapping") or {})
    c.insert("connector_configs", vals)
    return require(c, values["name"])


def update(c: Connection, name: str, values: dict[str, Any]) -> None:
    vals = {k: (dumps(v) if k in ("mapping", "state") else v) for k, v in values.items()}
    if vals:
        sets = ", ".join(f"{k} = ?" for k in vals)
        c.execute(f"UPDATE connector_configs SET {sets} WHERE name = ?", [*vals.values(), name])


def delete(c: Connection, conn_id: int) -> None:
    c.execute("DELETE FROM connector_live WHERE connector_id = ?", (conn_id,))
    c.execute("DELETE FROM connector_items WHERE connector_id = ?", (conn_id,))
    c.execute("DELETE FROM connector_runs WHERE connector_id = ?", (conn_id,))
    c.execute("DELETE FROM connector_configs WHERE id = ?", (conn_id,))


# -- the lease: one process runs a connector at a time ---------------------------------------------------------
def take_lease(c: Connection, conn_id: int, owner: str, now: str, until: str) -> bool:
    """Take (or renew) the lease of connector ``conn_id`` for ``owner`` until ``until``, with one atomic UPDATE that
    only succeeds when the lease is free, expired, or ``owner``'s already. True when taken."""
    cur = c.execute("UPDATE connector_configs SET lease_owner = ?, lease_until = ? WHERE id = ?"
                    " AND (lease_owner IS NULL OR lease_until IS NULL OR lease_until < ? OR lease_owner = ?)",
                    (owner, until, conn_id, now, owner))
    return int(cur.rowcount or 0) == 1


def renew_lease(c: Connection, conn_id: int, owner: str, until: str) -> bool:
    cur = c.execute("UPDATE connector_configs SET lease_until = ? WHERE id = ? AND lease_owner = ?", (until, conn_id, owner))
    return int(cur.rowcount or 0) == 1


def release_lease(c: Connection, conn_id: int, owner: str) -> None:
    c.execute("UPDATE connector_configs SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
              (conn_id, owner))


# -- runs --------------------------------------------------------------------------------------------------------
def start_run(c: Connection, conn_id: int, started: str, trigger: str) -> int:
    return int(c.insert("connector_runs", {"connector_id": conn_id, "started_at": started, "status": "running",
                                           "trigger": trigger}))


def finish_run(c: Connection, run_id: int, finished: str, status: str, counts: dict[str, int], errors: list[str],
               bytes_fetched: int, attempts: int) -> None:
    c.execute("UPDATE connector_runs SET finished_at = ?, status = ?, created = ?, updated = ?, unchanged = ?, failed = ?,"
              " bytes_fetched = ?, errors = ?, attempts = ? WHERE id = ?",
              (finished, status, *(int(counts.get(k, 0)) for k in COUNTS), int(bytes_fetched),
               dumps([e[:500] for e in errors[:MAX_ERRORS]]), attempts, run_id))


def run_in_progress(c: Connection, conn_id: int) -> bool:
    """Whether the connector's latest run has not finished (a live link holds the lease between runs)."""
    return c.fetchval("SELECT status FROM connector_runs WHERE connector_id = ? ORDER BY id DESC LIMIT 1",
                      (conn_id,)) == "running"


def log_run(c: Connection, conn_id: int, at: str, trigger: str, status: str, errors: list[str],
            counts: dict[str, int] | None = None) -> int:
    """A finished entry of the run log for what happened outside a run (a live link refused, stopped)."""
    run_id = start_run(c, conn_id, at, trigger)
    finish_run(c, run_id, at, status, counts or {}, errors, 0, 1)
    return run_id


RUN_COLUMNS = ("id", "started_at", "finished_at", "status", "trigger", "attempts", "created", "updated", "unchanged",
               "failed", "bytes_fetched", "errors")


def runs(c: Connection, conn_id: int, limit: int = 20) -> list[dict[str, Any]]:
    out = c.rows(f"SELECT {', '.join(RUN_COLUMNS)} FROM connector_runs WHERE connector_id = ? ORDER BY id DESC LIMIT ?",
                 (conn_id, int(limit)))
    for r in out:
        r["errors"] = _json(r["errors"], [])
    return out


# -- live links ---------------------------------------------------------------------------------------------------
def live(c: Connection, conn_id: int) -> dict[str, Any] | None:
    """The stored status of the connector's live link (with ``owner``, the process holding it), or None."""
    row = c.fetchone("SELECT owner, status, updated_at FROM connector_live WHERE connector_id = ?", (conn_id,))
    return None if row is None else {**_json(row[1], {}), "owner": row[0], "updated_at": row[2]}


def put_live(c: Connection, conn_id: int, owner: str, status: dict[str, Any], at: str) -> None:
    c.execute("DELETE FROM connector_live WHERE connector_id = ?", (conn_id,))
    if get_by_id(c, conn_id) is not None:
        c.execute("INSERT INTO connector_live (connector_id, owner, status, updated_at) VALUES (?, ?, ?, ?)",
                  (conn_id, owner, dumps(status), at))


def get_by_id(c: Connection, conn_id: int) -> Connector | None:
    row = c.fetchone(f"{SELECT} WHERE id = ?", (conn_id,))
    return None if row is None else Connector.from_row(row)


# -- items: what was written before, by the feed's key ----------------------------------------------------------
def items(c: Connection, conn_id: int, prefix: str = "") -> dict[str, tuple[dict[str, Any], str]]:
    """``key -> (ids, digest)`` of the connector's items (those whose key starts with ``prefix``)."""
    rows = c.fetchall("SELECT key, ids, digest FROM connector_items WHERE connector_id = ? AND substr(key, 1, ?) = ?",
                      (conn_id, len(prefix), prefix))
    return {str(r[0]): (_json(r[1], {}), str(r[2])) for r in rows}


def put_items(c: Connection, conn_id: int, rows: list[tuple[str, dict[str, Any], str]]) -> None:
    if not rows:
        return
    c.executemany("DELETE FROM connector_items WHERE connector_id = ? AND key = ?", [(conn_id, k) for k, _, _ in rows])
    c.executemany("INSERT INTO connector_items (connector_id, key, ids, digest) VALUES (?, ?, ?, ?)",
                  [(conn_id, k, dumps(ids), digest) for k, ids, digest in rows])


def drop_items(c: Connection, conn_id: int, keys: list[str]) -> None:
    c.executemany("DELETE FROM connector_items WHERE connector_id = ? AND key = ?", [(conn_id, k) for k in keys])


__all__ = ["Connector", "get", "require", "all_connectors", "due", "insert", "update", "delete", "take_lease",
           "renew_lease", "release_lease", "start_run", "finish_run", "runs", "items", "put_items", "drop_items",
           "COUNTS", "run_in_progress", "log_run", "live", "put_live", "get_by_id"]
