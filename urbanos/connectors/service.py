"""What the connectors' routes and commands call: configure, list, show, change, remove and run connectors, and
accept webhook pushes. Every call names the caller's identity; a connector is visible only to those who may publish
to its dataset (others get the answer of a connector that does not exist)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING, Any

from urbanos.connectors import store
from urbanos.connectors.owner import check_links, check_publisher, dataset, reference
from urbanos.connectors.runner import Runner
from urbanos.connectors.schedule import Cron, next_run, parse_every
from urbanos.connectors.scheduler import Scheduler
from urbanos.connectors.types import get_type
from urbanos.connectors.types.base import Progress
from urbanos.core.time import format_stored
from urbanos.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from urbanos.governance.outbound import target

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
FIELDS = ("name", "type", "url", "dataset", "every", "cron", "mapping", "enabled")
CHANGEABLE = ("url", "every", "cron", "mapping", "enabled")
SIGNATURE = "x-urbanos-signature"
RESERVED = frozenset({"new"})  # /connectors/new is the portal's form


SECRET_OPTIONS = ("mqtt_password",)
HIDDEN = "********"
"""What a view shows for a secret of a mapping; a change that sends it back keeps the stored value."""


def shown(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: (HIDDEN if k in SECRET_OPTIONS and v else v) for k, v in mapping.items()}


def _kept(data: Any, stored: dict[str, Any]) -> Any:
    if not isinstance(data, dict):
        return data
    return {k: (stored.get(k) if k in SECRET_OPTIONS and v == HIDDEN else v) for k, v in data.items()}


def _missing(name: str) -> NotFound:
    return NotFound(f"There is no connector {name!r}.", code="not_found")


def sign(secret: str, body: bytes) -> str:
    """The value of ``X-Urbanos-Signature`` for ``body``: ``sha256=`` and the hex HMAC-SHA256 with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _schedule(data: dict[str, Any]) -> tuple[int | None, str | None]:
    every, cron = data.get("every"), data.get("cron")
    if every not in (None, "") and cron not in (None, ""):
        raise ValidationFailed("Give either every or cron, not both.", detail={"every": ["or cron"]})
    if cron not in (None, ""):
        if not isinstance(cron, str):
            raise ValidationFailed("cron is text, e.g. '*/5 * * * *'.", detail={"cron": ["text"]})
        Cron.parse(cron)
        return None, cron.strip()
    if every not in (None, ""):
        return parse_every(str(every)) if not isinstance(every, bool) else parse_every("x"), None
    return None, None


def _check_url(kind: str, url: Any) -> str:
    if kind == "webhook" and url in (None, ""):
        return ""
    if not isinstance(url, str) or len(url) > 2000:
        raise ValidationFailed("url must be an http or https URL.", detail={"url": ["http or https URL"]})
    try:
        target(url)
    except ValidationFailed:
        raise ValidationFailed(f"url {url[:200]!r} is not an http or https URL.", detail={"url": ["http or https URL"]}) from None
    return url


class ConnectorService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.runner = Runner(platform)
        self.scheduler = Scheduler(self.runner)

    # -- access ----------------------------------------------------------------------------------------------
    def _visible(self, c: Connection, identity: Identity, name: str) -> store.Connector:
        """The connector, when ``identity`` may publish to its dataset (401/403/404 as the gate answers writes)."""
        conn = store.get(c, name)
        if conn is None:
            raise _missing(name)
        access, grants = self.platform.gate.dataset_access(c, conn.dataset_id)
        self.platform.gate.authorize_write(identity, access, grants, _missing(name))
        return conn

    def view(self, c: Connection, conn: store.Connector) -> dict[str, Any]:
        ds = dataset(c, conn.dataset_id)
        out: dict[str, Any] = {
            "name": conn.name, "type": conn.type, "url": conn.url, "dataset": ds.name if ds else None,
            "schedule": {"every_seconds": conn.every_seconds, "cron": conn.cron}, "mapping": shown(conn.mapping),
            "enabled": conn.enabled, "healthy": conn.healthy, "consecutive_failures": conn.failures,
            "last_run_at": conn.last_run_at, "last_status": conn.last_status, "next_run_at": conn.next_run_at,
            "running": bool(conn.lease_until and conn.lease_until > format_stored(self.runner.clock())
                            and store.run_in_progress(c, conn.id)),
            "created_at": conn.created_at, "updated_at": conn.updated_at, "configured_by": conn.owner_subject,
            "links": [{"rel": "self", "href": f"/connectors/{conn.name}", "type": "application/json"},
                      {"rel": "alternate", "href": f"/connectors/{conn.name}?f=html", "type": "text/html"}],
        }
        if conn.type == "webhook":
            out["ingest"] = f"/ingest/{conn.name}"
        if conn.type == "sta" and conn.mapping.get("live"):
            out["live"] = self.live_status(c, conn)
        return out

    def live_status(self, c: Connection, conn: store.Connector) -> dict[str, Any]:
        """The live link's status: this process's own when it holds the link, else the one its holder saved
        (``connected`` only while that process holds the lease)."""
        got = self.runner.live.status(conn.id) or store.live(c, conn.id) or {"state": "waiting", "connected": False}
        held = bool(conn.lease_until and conn.lease_until > format_stored(self.runner.clock())
                    and conn.lease_owner == got.get("owner"))
        if not held and got.get("state") == "connected":
            got = {**got, "state": "disconnected", "connected": False}
        got.pop("owner", None)
        got.pop("config", None)
        return got

    # -- configuration -----------------------------------------------------------------------------------------
    async def add(self, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
        """Create a connector; a webhook's answer carries its ``secret``, shown this once."""
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise ValidationFailed(f"Unknown member(s): {', '.join(unknown)}.", detail={k: ["unknown"] for k in unknown})
        name = data.get("name")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise ValidationFailed("name: lower-case letters, digits, '-' and '_' (at most 63, starting with a letter "
                                   "or digit).", detail={"name": ["invalid"]})
        if name in RESERVED:
            raise ValidationFailed(f"name: {name!r} is the address of the portal's form; choose another name.",
                                   detail={"name": ["reserved"]})
        kind = str(data.get("type") or "")
        ctype = get_type(kind)
        url = _check_url(kind, data.get("url"))
        every, cron = _schedule(data) if ctype.pulls else (None, None)
        mapping = ctype.check(url, data.get("mapping"))
        if not isinstance(data.get("dataset"), str | int) or isinstance(data.get("dataset"), bool):
            raise ValidationFailed("dataset: the name of the catalogue dataset the connector writes into.",
                                   detail={"dataset": ["required"]})
        secret = secrets.token_hex(32) if kind == "webhook" else None
        now = self.runner.clock()
        first = now if (every or cron) else None

        def tx(c: Connection) -> dict[str, Any]:
            ds = check_publisher(self.platform.gate, c, identity, data["dataset"])
            check_links(self.platform, c, ds, mapping)
            conn = store.insert(c, {"name": name, "type": kind, "url": url, "dataset_id": ds.id, "every_seconds": every,
                                    "cron": cron, "mapping": mapping, "secret": secret, **reference(identity),
                                    "enabled": 0 if data.get("enabled") is False else 1,
                                    "created_at": format_stored(now), "updated_at": format_stored(now),
                                    "next_run_at": format_stored(first) if first else None})
            return self.view(c, conn)

        out = await self.platform.db.write(tx)
        if secret:
            out["secret"] = secret
        return out

    async def list(self, identity: Identity) -> list[dict[str, Any]]:
        if identity.is_anonymous:
            raise Unauthorized("Connectors need a bearer token with the publisher role.")

        def read(c: Connection) -> list[dict[str, Any]]:
            out = []
            for conn in store.all_connectors(c):
                ds = dataset(c, conn.dataset_id)
                if identity.has_role("publisher", ds.owner_org if ds else None):
                    out.append(self.view(c, conn))
            return out

        return await self.platform.db.read(read)

    async def show(self, identity: Identity, name: str, runs: int = 20) -> dict[str, Any]:
        def read(c: Connection) -> dict[str, Any]:
            conn = self._visible(c, identity, name)
            return {**self.view(c, conn), "runs": store.runs(c, conn.id, runs)}

        return await self.platform.db.read(read)

    async def change(self, identity: Identity, name: str, data: dict[str, Any]) -> dict[str, Any]:
        """Change url, schedule, mapping or enabled; the caller becomes the identity the connector writes as."""
        unknown = sorted(set(data) - set(CHANGEABLE))
        if unknown:
            raise ValidationFailed(f"These cannot be changed: {', '.join(unknown)}.", detail={k: ["fixed"] for k in unknown})
        now = self.runner.clock()

        def tx(c: Connection) -> dict[str, Any]:
            conn = self._visible(c, identity, name)
            ds = check_publisher(self.platform.gate, c, identity, conn.dataset_id)
            ctype = get_type(conn.type)
            values: dict[str, Any] = {"updated_at": format_stored(now), **reference(identity)}
            if "url" in data:
                values["url"] = _check_url(conn.type, data["url"])
            if "mapping" in data:
                values["mapping"] = ctype.check(values.get("url", conn.url), _kept(data["mapping"], conn.mapping))
                check_links(self.platform, c, ds, values["mapping"])
            if ("every" in data or "cron" in data) and ctype.pulls:
                values["every_seconds"], values["cron"] = _schedule(data)
                first = next_run(now, values["every_seconds"], values["cron"]) and now
                values["next_run_at"] = format_stored(first) if first else None
            if "enabled" in data:
                if not isinstance(data["enabled"], bool):
                    raise ValidationFailed("enabled is true or false.", detail={"enabled": ["boolean"]})
                values["enabled"] = int(data["enabled"])
            store.update(c, name, values)
            return self.view(c, store.require(c, name))

        out = await self.platform.db.write(tx)
        held = await self.platform.db.read(lambda c: store.get(c, name))
        if held is not None:
            await self.runner.live.stop(held.id)  # started again by the next run, when still live
        return out

    async def remove(self, identity: Identity, name: str) -> None:
        """Remove the connector, its runs and its items (what it wrote stays), and stop its live link."""
        def tx(c: Connection) -> int:
            conn = self._visible(c, identity, name)
            if conn.lease_until and conn.lease_until > format_stored(self.runner.clock()) \
                    and store.run_in_progress(c, conn.id):
                raise Conflict(f"Connector {name!r} is running; remove it when the run has finished.")
            store.delete(c, conn.id)
            return conn.id

        conn_id = await self.platform.db.write(tx)
        await self.runner.live.stop(conn_id, release=False)  # a link in another process stops at its next renewal

    async def run(self, identity: Identity, name: str, progress: Progress | None = None) -> dict[str, Any]:
        """Run now, as the identity that configured the connector (checked again), if the caller may publish to its
        dataset."""
        conn = await self.platform.db.read(lambda c: self._visible(c, identity, name))
        if not get_type(conn.type).pulls:
            raise Conflict(f"Connector {name!r} is a {conn.type}: it runs when the source pushes to /ingest/{name}.")
        return await self.runner.run(name, trigger="manual", progress=progress)

    async def ingest(self, name: str, body: bytes, signature: str | None, content_type: str) -> dict[str, Any]:
        """A webhook push: 401 unless ``signature`` is the body's HMAC with the connector's secret."""
        conn = await self.platform.db.read(lambda c: store.get(c, name))
        if conn is None or conn.type != "webhook" or not conn.secret:
            raise _missing(name)
        if not signature or not hmac.compare_digest(signature.strip().encode(), sign(conn.secret, body).encode()):
            raise Unauthorized(f"The {SIGNATURE.title()} header is missing or is not the body's HMAC-SHA256 "
                               "with this connector's secret (sha256=<hex>).", code="bad_signature")
        if not conn.enabled:
            raise Conflict(f"Connector {name!r} is disabled.")
        return await self.runner.ingest(conn, body, content_type)


__all__ = ["ConnectorService", "sign", "NAME_RE"]
