"""The staff workflow of a service request: open → acknowledged → in progress → closed, and the extended closing
states (duplicate, not the city's responsibility, no further action, referred), with status notes and the agency
responsible. Every update is kept in the history with its own timestamp; an update older than the state in force
is kept but never rolls it back, and an update identical to one already recorded (or that changes nothing) is
dropped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from urbanos.core.time import format_stored, now_stored, parse_instant
from urbanos.errors import ValidationFailed
from urbanos.participation.open311.store import STATES, spec_status
from urbanos.storage import Connection

SKEW = timedelta(minutes=5)  # an update may be this far ahead of the server's clock


@dataclass(frozen=True)
class Update:
    state: str
    notes: str | None
    agency: str | None
    at: str  # stored form


def parse_update(form: dict[str, str], now: datetime | None = None) -> Update:
    """``status`` (a workflow state; ``open``/``closed`` as the spec writes them), ``status_notes`` (or
    ``description``), ``agency_responsible``, ``updated_datetime`` (ISO 8601 with an offset; default now)."""
    errors = [f"{k[:40]}: unknown field." for k in form
              if k not in ("status", "status_notes", "description", "agency_responsible", "updated_datetime",
                           "api_key", "jurisdiction_id", "csrf")][:5]
    state = form.get("status", "")
    if state not in STATES:
        errors.append(f"status: one of {', '.join(STATES)}.")
    notes = form.get("status_notes", form.get("description", "")) or None
    agency = form.get("agency_responsible", "") or None
    if notes is not None and (len(notes) > 4000 or "\x00" in notes):
        errors.append("status_notes: at most 4000 characters, no NUL.")
    if agency is not None and (len(agency) > 200 or "\x00" in agency):
        errors.append("agency_responsible: at most 200 characters, no NUL.")
    now = now or datetime.now(UTC)
    at = now
    if form.get("updated_datetime"):
        try:
            parsed = parse_instant(form["updated_datetime"], naive_offset=None)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            errors.append("updated_datetime: an ISO 8601 date-time with an offset.")
        elif parsed > now + SKEW:
            errors.append("updated_datetime: in the future.")
        else:
            at = parsed
    if errors:
        raise ValidationFailed(f"The update is not valid: {errors[0]}", detail={"errors": errors})
    return Update(state, notes, agency, format_stored(at))


def apply(c: Connection, rid: int, row: dict[str, Any], up: Update, actor: str) -> str:
    """Record ``up`` on request ``rid`` (its row as read in this transaction): ``applied``, ``late`` (kept in
    the history, the newer state stays) or ``unchanged`` (dropped)."""
    same = c.fetchval("SELECT 1 FROM participation_updates WHERE request_id = ? AND state = ? AND updated_at = ?"
                      " AND COALESCE(notes, '') = ? AND COALESCE(agency, '') = ?",
                      (rid, up.state, up.at, up.notes or "", up.agency or ""))
    current = (row["state"], row["status_notes"] or None, row["agency"] or None)
    if same is not None or (current == (up.state, up.notes, up.agency) and up.at >= row["state_at"]):
        return "unchanged"
    late = up.at < row["state_at"]
    c.insert("participation_updates", {"request_id": rid, "state": up.state, "notes": up.notes, "agency": up.agency,
                                       "updated_at": up.at, "recorded_at": now_stored(), "actor": actor,
                                       "applied": 0 if late else 1})
    if late:
        return "late"
    c.execute("UPDATE participation_requests SET state = ?, status = ?, status_notes = ?, agency = ?, updated_at = ?,"
              " state_at = ? WHERE id = ?", (up.state, spec_status(up.state), up.notes, up.agency, up.at, up.at, rid))
    return "applied"


def moderate(c: Connection, rid: int, hidden: bool, reason: str, photo: bool) -> None:
    if photo:
        c.execute("UPDATE participation_requests SET media_hidden = ? WHERE id = ?", (int(hidden), rid))
        c.execute("UPDATE participation_media SET hidden = ?, hidden_reason = ? WHERE key = (SELECT media_key FROM"
                  " participation_requests WHERE id = ?)", (int(hidden), reason if hidden else None, rid))
    else:
        c.execute("UPDATE participation_requests SET hidden = ?, hidden_reason = ? WHERE id = ?",
                  (int(hidden), reason if hidden else None, rid))


__all__ = ["Update", "parse_update", "apply", "moderate", "SKEW"]
