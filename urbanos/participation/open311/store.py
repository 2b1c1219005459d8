"""SQL of Open311: services, requests and their public form. Contact details are written here and read by no
function of this module: every public read names its columns."""

from __future__ import annotations

from typing import Any

import orjson

from urbanos.storage import Connection

STATES = ("open", "acknowledged", "in_progress", "closed", "duplicate", "not_responsible", "no_further_action",
          "referred")
CLOSED = frozenset({"closed", "duplicate", "not_responsible", "no_further_action", "referred"})
CONTACT_FIELDS = ("email", "first_name", "last_name", "phone", "device_id", "account_id")
_PUBLIC = ("r.id, r.service_code, s.name AS service_name, r.state, r.status, r.status_notes, r.agency,"
           " r.service_notice, r.description, r.lat, r.lon, r.address, r.address_id, r.zipcode, r.media_url,"
           " r.media_key, r.media_hidden, r.requested_at, r.updated_at, r.expected_at, r.attributes, r.owner_org,"
           " r.hidden, r.hidden_reason")
_FROM = " FROM participation_requests r LEFT JOIN participation_services s ON s.code = r.service_code"


def spec_status(state: str) -> str:
    return "closed" if state in CLOSED else "open"


def w3c(stored: str | None) -> str | None:
    """A stored instant as GeoReport writes it (W3C date-time, seconds, UTC)."""
    return None if not stored else stored[:19] + "Z"


# -- services -------------------------------------------------------------------------------------------------------
def _service(row: dict[str, Any]) -> dict[str, Any]:
    return {"code": row["code"], "name": row["name"], "description": row["description"], "type": row["type"],
            "keywords": row["keywords"], "group": row["grp"], "owner_org": row["owner_org"],
            "attributes": orjson.loads(row["attributes"]), "sensitive": bool(row["sensitive"])}


_SERVICE_COLS = "code, name, description, type, keywords, grp, owner_org, attributes, sensitive"


def services(c: Connection) -> list[dict[str, Any]]:
    return [_service(r) for r in c.rows(f"SELECT {_SERVICE_COLS} FROM participation_services ORDER BY code")]


def service(c: Connection, code: str) -> dict[str, Any] | None:
    rows = c.rows(f"SELECT {_SERVICE_COLS} FROM participation_services WHERE code = ?", (code,))
    return _service(rows[0]) if rows else None


def _service_values(s: dict[str, Any], now: str) -> dict[str, Any]:
    return {"name": s["name"], "description": s["description"], "type": s["type"], "keywords": s["keywords"],
            "grp": s["group"], "owner_org": s["owner_org"], "attributes": orjson.dumps(s["attributes"]).decode(),
            "sensitive": int(bool(s.get("sensitive"))), "updated_at": now}


def insert_service(c: Connection, s: dict[str, Any], now: str) -> None:
    c.insert("participation_services", {"code": s["code"], "created_at": now, **_service_values(s, now)})


def update_service(c: Connection, s: dict[str, Any], now: str) -> None:
    values = _service_values(s, now)
    sets = ", ".join(f"{k} = ?" for k in values)
    c.execute(f"UPDATE participation_services SET {sets} WHERE code = ?", (*values.values(), s["code"]))


def delete_service(c: Connection, code: str) -> None:
    c.execute("DELETE FROM participation_services WHERE code = ?", (code,))


def requests_of_service(c: Connection, code: str) -> int:
    return int(c.fetchval("SELECT COUNT(*) FROM participation_requests WHERE service_code = ?", (code,)) or 0)


def org_exists(c: Connection, name: str) -> bool:
    return c.fetchval("SELECT 1 FROM organizations WHERE name = ?", (name,)) is not None


# -- requests -------------------------------------------------------------------------------------------------------
def insert_request(c: Connection, values: dict[str, Any], contact: dict[str, str]) -> int:
    rid = int(c.insert("participation_requests", values))
    if any(contact.values()):
        c.insert("participation_contacts", {"request_id": rid, **{k: contact.get(k) or None for k in CONTACT_FIELDS}},
                 returning="request_id")
    return rid


def insert_media(c: Connection, key: str, data: bytes, width: int, height: int, faces: int, plates: int,
                 now: str) -> None:
    c.insert("participation_media", {"key": key, "content_type": "image/jpeg", "data": data, "width": width,
                                     "height": height, "faces": faces, "plates": plates, "created_at": now})


def media(c: Connection, key: str) -> tuple[bytes, str] | None:
    row = c.fetchone("SELECT data, content_type FROM participation_media WHERE key = ? AND hidden = 0", (key,))
    return None if row is None else (bytes(row[0]), str(row[1]))


def by_token(c: Connection, token: str) -> int | None:
    rid = c.fetchval("SELECT id FROM participation_requests WHERE token = ?", (token,))
    return None if rid is None else int(rid)


def request_row(c: Connection, rid: int) -> dict[str, Any] | None:
    rows = c.rows(f"SELECT {_PUBLIC}, r.state_at{_FROM} WHERE r.id = ?", (rid,))
    return rows[0] if rows else None


def public_rows(c: Connection) -> list[dict[str, Any]]:
    """Every request not hidden, in id order (the open dataset's full load)."""
    return c.rows(f"SELECT {_PUBLIC}{_FROM} WHERE r.hidden = 0 ORDER BY r.id")


def find(c: Connection, where: list[str], params: list[Any], limit: int, offset: int) -> list[dict[str, Any]]:
    sql = f"SELECT {_PUBLIC}{_FROM} WHERE r.hidden = 0"
    for w in where:
        sql += f" AND {w}"
    sql += " ORDER BY r.requested_at DESC, r.id DESC LIMIT ? OFFSET ?"
    return c.rows(sql, (*params, limit, offset))


def updates(c: Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    marks = ", ".join("?" * len(ids))
    for r in c.rows(f"SELECT request_id, state, notes, agency, updated_at, applied FROM participation_updates"
                    f" WHERE request_id IN ({marks}) ORDER BY id", ids):
        out[int(r["request_id"])].append({
            "datetime": w3c(r["updated_at"]), "status": spec_status(r["state"]), "detailed_status": r["state"],
            "description": r["notes"], "agency_responsible": r["agency"], "applied": bool(r["applied"])})
    return out


def public(row: dict[str, Any], base: str, notes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A request as GeoReport publishes it; with ``notes`` (``extensions=true``) also ``extended_attributes``."""
    media_url = None
    if not row["media_hidden"]:
        media_url = f"{base}/open311/v2/media/{row['media_key']}.jpg" if row["media_key"] else row["media_url"]
    out = {"service_request_id": str(row["id"]), "status": row["status"], "status_notes": row["status_notes"],
           "service_name": row["service_name"], "service_code": row["service_code"], "description": row["description"],
           "agency_responsible": row["agency"], "service_notice": row["service_notice"],
           "requested_datetime": w3c(row["requested_at"]), "updated_datetime": w3c(row["updated_at"]),
           "expected_datetime": w3c(row["expected_at"]), "address": row["address"], "address_id": row["address_id"],
           "zipcode": row["zipcode"], "lat": row["lat"], "long": row["lon"], "media_url": media_url}
    if notes is not None:
        out["extended_attributes"] = {"detailed_status": row["state"],
                                      "attributes": orjson.loads(row["attributes"] or "{}"), "notes": notes}
    return out


__all__ = ["STATES", "CLOSED", "CONTACT_FIELDS", "spec_status", "w3c", "services", "service", "insert_service",
           "update_service", "delete_service", "requests_of_service", "org_exists", "insert_request", "insert_media",
           "media", "by_token", "request_row", "public_rows", "find", "updates", "public"]


def staff_rows(c: Connection, orgs: list[str] | None, limit: int) -> list[dict[str, Any]]:
    """The newest requests of services of ``orgs`` (None: all), hidden ones included, for the staff page."""
    where, params = "", []
    if orgs is not None:
        where = f" WHERE r.owner_org IN ({', '.join('?' * len(orgs))})"
        params = list(orgs)
    return c.rows(f"SELECT {_PUBLIC}{_FROM}{where} ORDER BY r.requested_at DESC, r.id DESC LIMIT ?", (*params, limit))
