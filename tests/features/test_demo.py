"""The demo's collections are distributions of their datasets, and the pedestrian-sensors dataset has a publisher,
a description with attribution, and a licence (the catalogue's demo describes it; this capability's demo adds the
collection as a distribution)."""

from __future__ import annotations

import asyncio
from typing import Any

from urbanos.governance.gate import ADMIN


def test_pedestrian_sensors_is_described(platform: Any) -> None:
    for _ in range(2):  # idempotent
        for component in platform.components:  # in the order `urbanos demo` runs them
            if component.name in ("catalog", "features"):
                component.demo(platform)
    pkg = asyncio.run(platform.services["catalog"].package_show(ADMIN, "pedestrian-sensors"))
    assert pkg["organization"]["name"] == "city-of-melbourne"
    assert pkg["organization"]["title"] == "City of Melbourne"
    assert "City of Melbourne" in pkg["notes"] and "CC BY 4.0" in pkg["notes"]
    assert pkg["license_id"] == "CC-BY-4.0"
    assert pkg["access_level"] == "open"
    assert [r["url"] for r in pkg["resources"]] == ["/ogcapi/collections/pedestrian-sensors"]
    hamburg = asyncio.run(platform.services["catalog"].package_show(ADMIN, "hamburg-bezirke"))
    assert hamburg["title"]
    assert [r["url"] for r in hamburg["resources"]] == ["/ogcapi/collections/hamburg-bezirke"]
