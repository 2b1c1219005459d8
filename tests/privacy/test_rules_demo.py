"""The demo's person-related dataset: Wi-Fi presence counts released only as sums per 15 minutes and Hamburg Bezirk
with k = 10, the access points' MAC addresses pseudonymised."""

from __future__ import annotations

import time
from typing import Any

from urbanos.features.component import FeaturesComponent
from urbanos.privacy.component import PrivacyComponent
from urbanos.privacy.rules.demo import DATASET, POINTS


def test_wifi_presence_demo(client: Any, platform: Any) -> None:
    FeaturesComponent().demo(platform)
    PrivacyComponent().demo(platform)
    PrivacyComponent().demo(platform)  # idempotent
    deadline = time.monotonic() + 10
    while True:  # the rules and the Bezirke's polygons are picked up within a second or two
        r = client.get("/sta/v1.1/Observations?$top=1000&$orderby=phenomenonTime asc")
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status_code == 200, r.text
    cells, suppressed = r.json()["value"], int(r.headers["privacy-suppressed"])
    url = r.json().get("@iot.nextLink")
    while url:  # the whole day (a page may hold only night hours, all of them withheld, when run near midnight UTC)
        page = client.get(url)
        assert page.status_code == 200, page.text
        cells += page.json()["value"]
        suppressed, url = suppressed + int(page.headers.get("privacy-suppressed", 0)), page.json().get("@iot.nextLink")
    assert cells and all("@iot.id" not in c for c in cells)
    assert all(c["result"] >= 10 for c in cells)
    assert {c["parameters"]["urbanos:area"] for c in cells} <= {"Hamburg-Mitte", "Altona", "Eimsbüttel", "Hamburg-Nord",
                                                                 "Wandsbek", "Bergedorf", "Harburg"}
    assert suppressed > 0
    things = client.get("/sta/v1.1/Things").json()["value"]
    ours = [t for t in things if t["name"].startswith("Wi-Fi access point")]
    assert len(ours) == len(POINTS) and all(t["properties"]["mac"].startswith("pn:") for t in ours)
    rules = client.get(f"/privacy/rules/{DATASET}").json()
    assert rules["version"] == 1 and "Bezirk" not in rules["description"]["en"][0]
    assert "hamburg-bezirke" in rules["description"]["en"][0] and "below 10" in rules["description"]["en"][0]
