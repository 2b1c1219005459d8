"""The demo's two algorithm register entries, linked to the demo catalogue's datasets, loaded once."""

from __future__ import annotations

from typing import Any

from tests.privacy.conftest import ckan
from urbanos.catalog.component import CatalogComponent
from urbanos.privacy.component import PrivacyComponent


def test_demo_entries_are_idempotent(client: Any, platform: Any) -> None:
    CatalogComponent().demo(platform)
    for name in ("melbourne-pedestrian-counts", "pedestrian-sensors"):  # made by the features and sensing demos
        ckan(client, "package_create", {"name": name, "title": name, "owner_org": "city-of-melbourne"})
    PrivacyComponent().demo(platform)
    PrivacyComponent().demo(platform)
    listed = client.get("/algorithms.json").json()["algorithms"]
    assert sorted(a["name"] for a in listed) == ["Adaptive traffic-signal control", "Pedestrian-count forecast"]
    by_name = {a["name"]: a for a in listed}
    assert by_name["Pedestrian-count forecast"]["datasets"] == ["melbourne-pedestrian-counts", "pedestrian-sensors"]
    admin = {"Authorization": f"Bearer {platform.settings.admin_token}"}
    signals = client.get(f"/algorithms/{by_name['Adaptive traffic-signal control']['id']}.json", headers=admin).json()
    assert signals["datasets"] == ["traffic-signal-timings"] and signals["owner_org"] == "demo-mobility"
    page = client.get("/algorithms", headers={"Accept": "text/html", "Accept-Language": "de"}).text
    assert "Algorithmenregister" in page and "Pedestrian-count forecast" in page
