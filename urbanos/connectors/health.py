"""The connectors' health for other capabilities: :class:`urbanos.ports.ConnectorHealthPort` (the cockpit's freshness
view lists the unhealthy connectors beside the late datasets). Registered with :func:`provide` in the connectors
component's setup."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from urbanos.ports import ConnectorHealth, ConnectorHealthPort

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection

LIMIT = 200
"""The most connectors one answer lists."""


def _first_error(raw: Any) -> str | None:
    if raw in (None, ""):
        return None
    try:
        errors = orjson.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except orjson.JSONDecodeError:
        return str(raw)[:500]
    return str(errors[0])[:500] if isinstance(errors, list) and errors else None


class ConnectorHealthProvider:
    """:class:`urbanos.ports.ConnectorHealthPort` over ``connector_configs`` and ``connector_runs``."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def unhealthy(self, identity: Identity) -> list[ConnectorHealth]:
        gate = self.platform.gate

        def tx(c: Connection) -> list[ConnectorHealth]:
            where, params = gate.dataset_filter(identity, "k.dataset_id", c)
            rows = c.rows(
                "SELECT k.id, k.name, k.type, k.dataset_id, k.last_run_at, k.last_status, k.failures,"
                " (SELECT r.errors FROM connector_runs r WHERE r.connector_id = k.id ORDER BY r.id DESC LIMIT 1) AS errors"
                f" FROM connector_configs k WHERE k.healthy = 0 AND k.enabled = 1 AND {where}"
                " ORDER BY k.failures DESC, k.name LIMIT ?", (*params, LIMIT))  # nosec B608 - the gate's own SQL
            out = []
            for r in rows:
                ds, _ = gate.dataset_access(c, int(r["dataset_id"]))
                out.append(ConnectorHealth(name=str(r["name"]), type=str(r["type"]), dataset=ds.name if ds else "",
                                           last_run_at=r["last_run_at"], last_status=r["last_status"],
                                           last_error=_first_error(r["errors"]), failures=int(r["failures"] or 0)))
            return out

        return await self.platform.db.read(tx)


def provide(platform: Platform) -> None:
    """Register the connectors' health port (the connectors component's setup calls this)."""
    provider: ConnectorHealthPort = ConnectorHealthProvider(platform)  # checked against the contract by mypy
    platform.provide(ConnectorHealthPort, provider)


__all__ = ["ConnectorHealthProvider", "provide"]
