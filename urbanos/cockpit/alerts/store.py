"""The alerts' SQL: rules, episodes and deliveries (tables of :mod:`urbanos.cockpit.alerts.schema`), and their JSON.

Every function takes a :class:`~urbanos.storage.Connection` and runs in the caller's transaction. Reads of rules and
episodes take the gate's dataset filter (``visible``: SQL on the rule's ``r.dataset_id`` and its parameters).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.cockpit.alerts.engine import RuleSpec, RuleState
from urbanos.core.time import format_stored, parse_utc

if TYPE_CHECKING:
    from urbanos.ports import DatastreamOwner
    from urbanos.storage import Connection

RULE_COLUMNS = ("id, name, datastream_id, dataset_id, owner_org, operator, fire_value, clear_value, pending_seconds,"
                " stale_seconds, channels, enabled, state, pending_since, nodata, episode_id, nodata_episode_id,"
                " last_seen, last_value, created_by, created_at, modified_at")
EPISODE_COLUMNS = "e.id, e.rule_id, e.kind, e.state, e.started_at, e.resolved_at, e.start_value, e.end_value"


def stamp(t: float | None) -> str | None:
    """Epoch seconds in the stored text form."""
    return None if t is None else format_stored(datetime.fromtimestamp(t, UTC))


def epoch(text: str | None) -> float | None:
    return None if not text else parse_utc(text).timestamp()


# -- rules ----------------------------------------------------------------------------------------------------
def _columns(values: dict[str, Any], owner: DatastreamOwner) -> dict[str, Any]:
    th = values.get("threshold")
    stale = values.get("staleness_minutes")
    return {
        "name": values["name"], "datastream_id": owner.datastream_id, "dataset_id": owner.dataset_id,
        "owner_org": owner.owner_org, "operator": th["operator"] if th else None,
        "fire_value": th["fire"] if th else None, "clear_value": th["clear"] if th else None,
        "pending_seconds": float(values.get("pending_seconds") or 0.0),
        "stale_seconds": None if stale is None else float(stale) * 60.0,
        "channels": orjson.dumps(values["channels"]).decode(), "enabled": 1 if values.get("enabled", True) else 0,
    }


def insert_rule(c: Connection, values: dict[str, Any], owner: DatastreamOwner, secret: str, by: str,
                now: float) -> int:
    cols = _columns(values, owner)
    cols.update(secret=secret, created_by=by, created_at=stamp(now), modified_at=stamp(now), last_seen=stamp(now))
    return c.insert("alert_rules", cols)


def update_rule(c: Connection, rule_id: int, values: dict[str, Any], owner: DatastreamOwner, secret: str | None,
                now: float) -> None:
    cols = _columns(values, owner)
    cols["modified_at"] = stamp(now)
    if secret is not None:
        cols["secret"] = secret
    sets = ", ".join(f"{k} = ?" for k in cols)
    c.execute(f"UPDATE alert_rules SET {sets} WHERE id = ?", (*cols.values(), rule_id))


def delete_rule(c: Connection, rule_id: int) -> None:
    c.execute("DELETE FROM alert_deliveries WHERE episode_id IN (SELECT id FROM alert_episodes WHERE rule_id = ?)",
              (rule_id,))
    c.execute("DELETE FROM alert_episodes WHERE rule_id = ?", (rule_id,))
    c.execute("DELETE FROM alert_rules WHERE id = ?", (rule_id,))


def rule_row(c: Connection, rule_id: int, visible: tuple[str, list[Any]] | None = None) -> dict[str, Any] | None:
    where, params = visible or ("1=1", [])
    rows = c.rows(f"SELECT {RULE_COLUMNS} FROM alert_rules r WHERE r.id = ? AND {where}", [rule_id, *params])
    return rows[0] if rows else None


def rule_secret(c: Connection, rule_id: int) -> str | None:
    row = c.fetchone("SELECT secret FROM alert_rules WHERE id = ?", (rule_id,))
    return None if row is None else str(row[0])


def rule_rows(c: Connection, visible: tuple[str, list[Any]], *, datastream: int | None = None, limit: int = 100,
              offset: int = 0) -> list[dict[str, Any]]:
    where, params = visible
    if datastream is not None:
        where += " AND r.datastream_id = ?"
        params = [*params, datastream]
    return c.rows(f"SELECT {RULE_COLUMNS} FROM alert_rules r WHERE {where} ORDER BY r.id LIMIT ? OFFSET ?",
                  [*params, limit, offset])


def count_rules(c: Connection) -> int:
    return int(c.fetchval("SELECT COUNT(*) FROM alert_rules") or 0)


def spec_of(row: dict[str, Any]) -> RuleSpec:
    return RuleSpec(id=int(row["id"]), datastream_id=int(row["datastream_id"]), operator=row["operator"],
                    fire=row["fire_value"], clear=row["clear_value"], pending=float(row["pending_seconds"] or 0.0),
                    stale=None if row["stale_seconds"] is None else float(row["stale_seconds"]))


def state_of(row: dict[str, Any]) -> RuleState:
    return RuleState(state=str(row["state"] or "ok"), pending_since=epoch(row["pending_since"]),
                     nodata=bool(row["nodata"]), last_seen=epoch(row["last_seen"]), last_value=row["last_value"])


def save_states(c: Connection, states: list[tuple[int, RuleState]]) -> None:
    c.executemany("UPDATE alert_rules SET state = ?, pending_since = ?, nodata = ?, last_seen = ?, last_value = ?"
                  " WHERE id = ?", [(s.state, stamp(s.pending_since), 1 if s.nodata else 0, stamp(s.last_seen),
                                     s.last_value, rid) for rid, s in states])


def rule_json(row: dict[str, Any], *, editable: bool) -> dict[str, Any]:
    """A rule as the API answers it; the channels' addresses only for those who may change the rule."""
    ch = orjson.loads(row["channels"])
    if not editable:
        ch = {"webhook": bool(ch.get("webhook")), "mqtt": bool(ch.get("mqtt")), "email": len(ch.get("email") or [])}
    th = None if row["operator"] is None else {
        "operator": row["operator"], "fire": row["fire_value"], "clear": row["clear_value"]}
    stale = row["stale_seconds"]
    return {
        "id": int(row["id"]), "name": row["name"], "datastream": int(row["datastream_id"]),
        "dataset_id": row["dataset_id"], "owner_org": row["owner_org"], "threshold": th,
        "pending_seconds": float(row["pending_seconds"] or 0.0),
        "staleness_minutes": None if stale is None else float(stale) / 60.0, "channels": ch,
        "enabled": bool(row["enabled"]), "state": row["state"], "no_data": bool(row["nodata"]),
        "last_seen": row["last_seen"], "last_value": row["last_value"], "mqtt_topic": f"alerts/{int(row['id'])}",
        "created_by": row["created_by"] if editable else None, "created_at": row["created_at"],
        "modified_at": row["modified_at"], "editable": editable,
    }


# -- episodes and deliveries -------------------------------------------------------------------------------------
def open_episode(c: Connection, rule_id: int, track: str, at: float, value: float | None) -> int:
    eid = c.insert("alert_episodes", {"rule_id": rule_id, "kind": track, "state": "firing", "started_at": stamp(at),
                                      "start_value": value})
    col = "episode_id" if track == "threshold" else "nodata_episode_id"
    c.execute(f"UPDATE alert_rules SET {col} = ? WHERE id = ?", (eid, rule_id))
    return eid


def close_episode(c: Connection, rule_id: int, track: str, at: float, value: float | None) -> int | None:
    col = "episode_id" if track == "threshold" else "nodata_episode_id"
    eid = c.fetchval(f"SELECT {col} FROM alert_rules WHERE id = ?", (rule_id,))
    if eid is None:
        return None
    c.execute("UPDATE alert_episodes SET state = 'resolved', resolved_at = ?, end_value = ? WHERE id = ?",
              (stamp(at), value, eid))
    c.execute(f"UPDATE alert_rules SET {col} = NULL WHERE id = ?", (rule_id,))
    return int(eid)


def add_delivery(c: Connection, episode_id: int, event: str, channel: str, where: str, now: float, *,
                 status: str = "pending", attempts: int = 0) -> int:
    return c.insert("alert_deliveries", {"episode_id": episode_id, "event": event, "channel": channel,
                                         "target": where, "status": status, "attempts": attempts,
                                         "updated_at": stamp(now)})


def record_delivery(c: Connection, delivery_id: int, status: str, attempts: int, error: str | None,
                    now: float) -> None:
    c.execute("UPDATE alert_deliveries SET status = ?, attempts = ?, last_error = ?, updated_at = ? WHERE id = ?",
              (status, attempts, error, stamp(now), delivery_id))


def episode_rows(c: Connection, visible: tuple[str, list[Any]], *, rule: int | None = None, state: str | None = None,
                 kind: str | None = None, since: str | None = None, limit: int = 100, offset: int = 0,
                 episode: int | None = None) -> list[dict[str, Any]]:
    where, params = visible
    conds, args = [where], list(params)
    for sql, value in (("e.rule_id = ?", rule), ("e.state = ?", state), ("e.kind = ?", kind),
                       ("(e.resolved_at IS NULL OR e.resolved_at >= ?)", since), ("e.id = ?", episode)):
        if value is not None:
            conds.append(sql)
            args.append(value)
    return c.rows(f"SELECT {EPISODE_COLUMNS}, r.name AS rule_name, r.datastream_id, r.dataset_id, r.owner_org"
                  f" FROM alert_episodes e JOIN alert_rules r ON r.id = e.rule_id WHERE {' AND '.join(conds)}"
                  " ORDER BY e.id DESC LIMIT ? OFFSET ?", [*args, limit, offset])


def deliveries_of(c: Connection, episode_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in episode_ids}
    if not episode_ids:
        return out
    marks = ", ".join("?" * len(episode_ids))
    for r in c.rows(f"SELECT id, episode_id, event, channel, target, status, attempts, last_error, updated_at"
                    f" FROM alert_deliveries WHERE episode_id IN ({marks}) ORDER BY id", episode_ids):
        out[int(r["episode_id"])].append(r)
    return out


def episode_json(row: dict[str, Any], deliveries: list[dict[str, Any]], *, editable: bool) -> dict[str, Any]:
    return {
        "id": int(row["id"]), "rule": int(row["rule_id"]), "rule_name": row["rule_name"],
        "datastream": int(row["datastream_id"]), "kind": row["kind"], "state": row["state"],
        "started_at": row["started_at"], "resolved_at": row["resolved_at"], "start_value": row["start_value"],
        "end_value": row["end_value"],
        "deliveries": [{"id": int(d["id"]), "event": d["event"], "channel": d["channel"],
                        "target": d["target"] if editable else None, "status": d["status"],
                        "attempts": int(d["attempts"]), "last_error": d["last_error"], "updated_at": d["updated_at"]}
                       for d in deliveries],
    }


__all__ = ["stamp", "epoch", "insert_rule", "update_rule", "delete_rule", "rule_row", "rule_rows", "rule_secret",
           "count_rules", "spec_of", "state_of", "save_states", "rule_json", "open_episode", "close_episode",
           "add_delivery", "record_delivery", "episode_rows", "deliveries_of", "episode_json"]
