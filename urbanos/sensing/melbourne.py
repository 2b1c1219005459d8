"""Melbourne pedestrian counting: importer, demo data and simulated live counts."""

from __future__ import annotations

from typing import Any

from urbanos.plugins import Importer


class MelbourneImporter(Importer):
    name = "melbourne-pedestrian"
    description = "City of Melbourne pedestrian counting CSV (hourly counts and sensor locations)."


def load_demo(platform: Any) -> None:
    return None


async def live(platform: Any) -> None:
    return None
