"""The demo's pedestrian-sensors dataset has a publisher, a description with attribution, and a licence."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from urbanos.governance.gate import ADMIN


@pytest.mark.parametrize("with_catalog_demo", [True, False])
def test_pedestrian_sensors_is_described(platform: Any, with_catalog_demo: bool) -> None:
    from urbanos.features.demo import load_demo

    if with_catalog_demo:
        from urbanos.catalog.demo import load_demo as catalog_demo

        catalog_demo(platform)
    load_demo(platform)
    load_demo(platform)  # idempotent
    pkg = asyncio.run(platform.services["catalog"].package_show(ADMIN, "pedestrian-sensors"))
    assert pkg["organization"]["name"] == "city-of-melbourne"
    assert pkg["organization"]["title"] == "City of Melbourne"
    assert "City of Melbourne" in pkg["notes"] and "CC BY 4.0" in pkg["notes"]
    assert pkg["license_id"] == "CC-BY-4.0"
    assert pkg["access_level"] == "open"
    assert [r["url"] for r in pkg["resources"]] == ["/ogcapi/collections/pedestrian-sensors"]
    hamburg = asyncio.run(platform.services["catalog"].package_show(ADMIN, "hamburg-bezirke"))
    assert hamburg["title"]
