"""What only the platform can tell about a dashboard: whether the Datastreams it names exist and whether the
SensorThings service accepts its queries (and the features collections exist). Files are checked as the platform
(the admin identity); a dashboard made in the portal is checked as its publisher, who learns nothing about data it
may not read (a hidden Datastream is simply unknown)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from urbanos.cockpit.dashboards.data import VERSION
from urbanos.cockpit.dashboards.model import Dashboard, Problem
from urbanos.errors import NotFound, UrbanosError
from urbanos.ports import FeaturesPort, SensingPort

if TYPE_CHECKING:
    from urbanos.cockpit.dashboards.model import Panel
    from urbanos.governance import Identity
    from urbanos.platform import Platform

NAMED = re.compile(r"Datastreams\((\d+)\)")


async def _datastreams(platform: Platform, panel: Panel, identity: Identity, base: str) -> list[Problem]:
    sensing = platform.require(SensingPort)
    out: list[Problem] = []
    if panel.datastreams:
        found = await sensing.entities_json(VERSION, "Datastreams", list(panel.datastreams), identity, base, ["id"])
        for j, (ds, got) in enumerate(zip(panel.datastreams, found, strict=True)):
            if got is None:
                out.append(Problem(("panels", panel.index, "datastreams", j), f"unknown Datastream {ds}"))
    for m in NAMED.finditer(panel.sta_path):
        if await sensing.entity_json(VERSION, "Datastreams", int(m.group(1)), identity, base, ["id"]) is None:
            out.append(Problem(("panels", panel.index, "sta"), f"unknown Datastream {m.group(1)}"))
    return out


async def check_panel(platform: Platform, panel: Panel, identity: Identity, base: str) -> list[Problem]:
    if panel.features:
        port = platform.optional(FeaturesPort)
        try:
            if port is None:
                raise NotFound("no OGC API Features on this platform")
            await port.preview(identity, panel.features, 1)
        except UrbanosError:
            return [Problem(("panels", panel.index, "features"), f"unknown collection {panel.features!r}")]
        return []
    out = await _datastreams(platform, panel, identity, base)
    if out:
        return out
    q = panel.sta_query
    q["$top"] = "1"
    try:
        await platform.require(SensingPort).read_path(VERSION, panel.sta_path, q, identity, base)
    except NotFound as exc:
        out.append(Problem(("panels", panel.index, "sta"), f"not found: {exc.message}"))
    except UrbanosError as exc:
        out.append(Problem(("panels", panel.index, "sta"), f"bad query: {exc.message}"))
    return out


async def check_dashboard(platform: Platform, dash: Dashboard, identity: Identity, base: str = "") -> list[Problem]:
    out: list[Problem] = []
    for panel in dash.panels:
        out += await check_panel(platform, panel, identity, base)
    return out


__all__ = ["check_dashboard", "check_panel"]
