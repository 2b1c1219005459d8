"""Open311's service: what the routes and pages ask (services, requests, the staff workflow, moderation), with the
organisation checks, the rate limits, MQTT and the audit trail."""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.core.ids import is_ascii_digits
from urbanos.core.time import now_stored
from urbanos.errors import Conflict, NotFound, ValidationFailed
from urbanos.governance import Identity
from urbanos.governance.gate import Gate
from urbanos.participation import throttle
from urbanos.participation.open311 import intake, opendata, query, store, workflow
from urbanos.participation.open311.definitions import definition, service_entry, validate_service
from urbanos.participation.open311.media import make_safe
from urbanos.participation.open311.opendata import OpenData
from urbanos.participation.throttle import Limits
from urbanos.ports import AuditPort, MessagePort

if TYPE_CHECKING:
    from urbanos.platform import Platform

TOPIC = "open311/requests"
COARSE_DIGITS = 3  # about 100 m: the location published on MQTT


def _coarse(x: float | None) -> float | None:
    return None if x is None else round(x, COARSE_DIGITS)


class Open311Service:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db
        self.open_data = OpenData(platform)

    # -- services ---------------------------------------------------------------------------------------------
    async def services(self) -> list[dict[str, Any]]:
        return [service_entry(s) for s in await self.db.read(store.services)]

    async def definition(self, code: str) -> dict[str, Any]:
        return definition(await self._service(code))

    async def _service(self, code: str) -> dict[str, Any]:
        found = await self.db.read(lambda c: store.service(c, code))
        if found is None:
            raise NotFound(f"service_code {code[:64]!r}: no such service.")
        return found

    def _audit(self, ident: Identity, action: str, kind: str, oid: Any, org: str | None, **details: Any) -> None:
        audit = self.platform.optional(AuditPort)
        if audit is not None:
            audit.record(ident.subject, action, kind, oid, org=org, details=details or None)

    async def create_service(self, ident: Identity, body: Any) -> dict[str, Any]:
        s = validate_service(body)
        Gate.require(ident, "steward", s["owner_org"])

        def tx(c: Any) -> None:
            if s["owner_org"] is not None and not store.org_exists(c, s["owner_org"]):
                raise ValidationFailed(f"organization {s['owner_org']!r}: no such organisation.")
            if store.service(c, s["code"]) is not None:
                raise Conflict(f"service_code {s['code']!r} exists; change it with PUT.")
            store.insert_service(c, s, now_stored())

        await self.db.write(tx)
        self._audit(ident, "open311.service.created", "Open311Service", s["code"], s["owner_org"])
        return service_entry(s)

    async def replace_service(self, ident: Identity, code: str, body: Any) -> dict[str, Any]:
        if isinstance(body, dict):
            body = {"service_code": code, **body}
            if body["service_code"] != code:
                raise ValidationFailed("service_code: differs from the path; a service keeps its code.")
        s = validate_service(body)

        def tx(c: Any) -> bool:
            old = store.service(c, code)
            if old is None:
                raise NotFound(f"service_code {code[:64]!r}: no such service.")
            Gate.require(ident, "steward", old["owner_org"])
            Gate.require(ident, "steward", s["owner_org"])
            if s["owner_org"] is not None and not store.org_exists(c, s["owner_org"]):
                raise ValidationFailed(f"organization {s['owner_org']!r}: no such organisation.")
            store.update_service(c, s, now_stored())
            return self.open_data.service_changed(c)

        await self._in_step(await self.db.write(tx))
        self._audit(ident, "open311.service.changed", "Open311Service", code, s["owner_org"])
        return service_entry(s)

    async def delete_service(self, ident: Identity, code: str) -> None:
        def tx(c: Any) -> str | None:
            old = store.service(c, code)
            if old is None:
                raise NotFound(f"service_code {code[:64]!r}: no such service.")
            Gate.require(ident, "steward", old["owner_org"])
            if store.requests_of_service(c, code):
                raise Conflict(f"service_code {code!r} has service requests; it cannot be deleted.")
            store.delete_service(c, code)
            return old["owner_org"]  # type: ignore[no-any-return]

        org = await self.db.write(tx)
        self._audit(ident, "open311.service.deleted", "Open311Service", code, org)

    async def _in_step(self, in_step: bool, rid: int | None = None) -> None:
        """After a write whose transaction found no open-data collection yet: publish every request now, or, when a
        concurrent first publication made the collection meanwhile, request ``rid`` (``None``: a service changed,
        every request) again: that publication may have read the requests before this write committed."""
        if not in_step:
            await opendata.publish(self.platform, self.open_data, rid, everything=rid is None)

    # -- requests ---------------------------------------------------------------------------------------------
    async def throttle(self, ident: Identity, client: str | None, *, per_token: bool = True) -> None:
        """429 when the caller's token (``per_token``: not for the shared report form) or client address has used
        up its posts; otherwise count this post against both."""
        limits: Limits = self.platform.services[throttle.SERVICE]
        await limits.take(ident.subject if per_token else None, client, "service requests")

    async def submit(self, ident: Identity, items: list[tuple[str, str]], photo: bytes | None,
                     base: str) -> list[dict[str, Any]]:
        """A new request from the POST's fields (and an uploaded ``photo``); the spec's answer."""
        one, attrs, multi, errors = intake.split_fields(items)
        svc = await self.db.read(lambda c: store.service(c, one.get("service_code", ""))) \
            if one.get("service_code") else None
        req = intake.check(one, attrs, multi, svc, errors)
        if photo is not None and req.media_url:
            raise ValidationFailed("Give media_url or upload a photo, not both.")
        limit = int(self.platform.settings.participation_media_max_bytes)
        safe = await asyncio.to_thread(make_safe, photo, limit) if photo else None  # CPU work: off the event loop
        assert svc is not None
        now = now_stored()
        token = secrets.token_hex(12) if svc["type"] == "batch" else None
        key = secrets.token_urlsafe(18) if safe else None
        values = {"service_code": req.service_code, "owner_org": svc["owner_org"], "state": "open", "status": "open",
                  "description": req.description, "lat": req.lat, "lon": req.lon, "address": req.address,
                  "address_id": req.address_id, "zipcode": req.zipcode, "media_url": req.media_url, "media_key": key,
                  "attributes": orjson.dumps(req.attributes).decode(), "token": token, "subject": ident.subject,
                  "requested_at": now, "updated_at": now, "state_at": now}

        def tx(c: Any) -> tuple[int, bool]:
            if safe is not None and key is not None:
                store.insert_media(c, key, safe.data, safe.width, safe.height, safe.faces, safe.plates, now)
            rid = store.insert_request(c, values, req.contact)
            return rid, self.open_data.changed(c, rid)

        rid, in_step = await self.db.write(tx)
        await self._in_step(in_step, rid)
        await self._publish(rid, svc, values)
        if token is not None:
            return [{"token": token}]
        return [{"service_request_id": str(rid), "service_notice": None}]

    async def _publish(self, rid: int, svc: dict[str, Any], v: dict[str, Any]) -> None:
        messages = self.platform.optional(MessagePort)
        if messages is None:
            return
        payload = {"service_request_id": str(rid), "service_code": svc["code"], "service_name": svc["name"],
                   "status": "open", "requested_datetime": store.w3c(v["requested_at"]),
                   "lat": _coarse(v["lat"]), "long": _coarse(v["lon"])}
        await messages.publish(TOPIC, orjson.dumps(payload))

    async def find(self, q: dict[str, str], base: str) -> list[dict[str, Any]]:
        f = query.parse(q)

        def read(c: Any) -> list[dict[str, Any]]:
            rows = store.find(c, f.where, f.params, f.limit, f.offset)
            notes = store.updates(c, [r["id"] for r in rows]) if f.extensions else None
            return [store.public(r, base, notes[r["id"]] if notes is not None else None) for r in rows]

        return await self.db.read(read)

    async def row(self, rid_text: str) -> dict[str, Any]:
        """The stored row (with the moderation flags) of a request that exists; NotFound otherwise."""
        rid = int(rid_text) if is_ascii_digits(rid_text) and len(rid_text) < 16 else 0
        row = await self.db.read(lambda c: store.request_row(c, rid)) if rid else None
        if row is None:
            raise NotFound(f"service_request_id {rid_text[:20]!r}: no such request.")
        return row

    async def one(self, rid_text: str, base: str, extensions: bool = False) -> dict[str, Any]:
        row = await self.row(rid_text)
        if row["hidden"]:
            raise NotFound(f"service_request_id {rid_text[:20]!r}: no such request.")
        notes = (await self.db.read(lambda c: store.updates(c, [row["id"]])))[row["id"]] if extensions else None
        return store.public(row, base, notes)

    async def history(self, rid: int) -> list[dict[str, Any]]:
        return (await self.db.read(lambda c: store.updates(c, [rid])))[rid]

    async def token(self, token: str) -> list[dict[str, Any]]:
        rid = await self.db.read(lambda c: store.by_token(c, token)) if len(token) <= 64 else None
        if rid is None:
            raise NotFound("No such token.")
        return [{"service_request_id": str(rid), "token": token}]

    async def media(self, key: str) -> tuple[bytes, str]:
        found = await self.db.read(lambda c: store.media(c, key)) if len(key) <= 64 else None
        if found is None:
            raise NotFound("No such photo.")
        return found

    # -- staff ------------------------------------------------------------------------------------------------
    async def update(self, ident: Identity, rid_text: str, form: dict[str, str]) -> tuple[str, dict[str, Any]]:
        up = workflow.parse_update(form)
        row = await self.row(rid_text)
        Gate.require(ident, "steward", row["owner_org"])

        def tx(c: Any) -> tuple[str, bool]:
            fresh = store.request_row(c, row["id"])
            assert fresh is not None
            outcome = workflow.apply(c, row["id"], fresh, up, ident.subject)
            return outcome, outcome != "applied" or self.open_data.changed(c, row["id"])

        outcome, in_step = await self.db.write(tx)
        await self._in_step(in_step, row["id"])
        if outcome != "unchanged":
            self._audit(ident, "open311.request.updated", "ServiceRequest", row["id"], row["owner_org"],
                        state=up.state, outcome=outcome)
        fresh = await self.db.read(lambda c: store.request_row(c, row["id"]))
        assert fresh is not None
        return outcome, fresh

    async def moderate(self, ident: Identity, rid_text: str, form: dict[str, str]) -> dict[str, Any]:
        errors = [f"{k[:40]}: unknown field." for k in form if k not in ("hidden", "reason", "photo", "api_key", "csrf")]
        hidden, photo, reason = form.get("hidden", "true"), form.get("photo", "false"), form.get("reason", "")
        if hidden not in ("true", "false") or photo not in ("true", "false"):
            errors.append("hidden and photo: true or false.")
        if hidden == "true" and not 1 <= len(reason) <= 1000:
            errors.append("reason: required to hide (at most 1000 characters).")
        if errors:
            raise ValidationFailed(f"The moderation is not valid: {errors[0]}", detail={"errors": errors})
        row = await self.row(rid_text)
        Gate.require(ident, "steward", row["owner_org"])
        def tx(c: Any) -> bool:
            workflow.moderate(c, row["id"], hidden == "true", reason, photo == "true")
            return self.open_data.changed(c, row["id"])

        await self._in_step(await self.db.write(tx), row["id"])
        self._audit(ident, "open311.request." + ("hidden" if hidden == "true" else "shown"), "ServiceRequest",
                    row["id"], row["owner_org"], reason=reason, photo=photo == "true")
        return {"service_request_id": str(row["id"]), "hidden": hidden == "true", "photo": photo == "true"}

    async def staff_list(self, ident: Identity, limit: int = 200) -> list[dict[str, Any]]:
        """The newest requests of the services the caller is a steward of (hidden ones too)."""
        scopes = ident.orgs_with("steward")
        if not scopes:
            return []

        def read(c: Any) -> list[dict[str, Any]]:
            if None in scopes:
                return store.staff_rows(c, None, limit)
            return store.staff_rows(c, [s for s in scopes if s], limit)

        return await self.db.read(read)


__all__ = ["Open311Service", "TOPIC", "COARSE_DIGITS"]
