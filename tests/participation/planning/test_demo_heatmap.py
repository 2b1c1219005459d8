"""The demo's planning project (Jungfernstieg 2030: 40 contributions with rubrics, comments and ratings, published
as open data) and its heat map, counted per Stadtteil of the features demo's Hamburg collection (read through the
features port, as the caller)."""

from __future__ import annotations

from typing import Any

from tests.participation.planning.helpers import PREFIX, org
from urbanos.participation.planning import wiring
from urbanos.participation.planning.demo import NAME


def test_demo_project_and_heatmap_by_district(client: Any, platform: Any) -> None:
    org(client, "hamburg-lgv")
    assert client.get(f"{PREFIX}/{NAME}/heatmap.json").status_code == 404
    by_name = {c.name: c for c in platform.components}
    by_name["features"].demo(platform)
    wiring.demo(platform)
    wiring.demo(platform)  # idempotent
    p = client.get(f"{PREFIX}/{NAME}").json()
    assert p["title"] == "Jungfernstieg 2030" and p["boundaries"] == "hamburg-stadtteile"
    items = client.get(f"{PREFIX}/{NAME}/contributions").json()["contributions"]
    assert len(items) == 40 and sum(k["comments"] for k in items) > 10
    assert sum(k["rating"]["up"] + k["rating"]["down"] for k in items) > 60
    heat = client.get(f"{PREFIX}/{NAME}/heatmap.json")
    assert heat.status_code == 200 and heat.headers["content-type"].startswith("application/geo+json")
    districts = heat.json()["features"]
    assert len(districts) >= 2 and sum(f["properties"]["contributions"] for f in districts) == 40
    assert sum(f["properties"]["rating"] for f in districts) == sum(k["rating"]["score"] for k in items)
    assert {"Hamburg-Altstadt", "Neustadt"} & {f["properties"]["district"] for f in districts}
    assert len(client.get(PREFIX).json()["projects"]) == 1
    # published as open data, with the rubrics
    feats = client.get(f"/ogcapi/collections/planning-{NAME}/items", params={"limit": "100"}).json()["features"]
    assert len(feats) == 40 and sum(f["properties"]["up"] for f in feats) == sum(k["rating"]["up"] for k in items)
    cycling = client.get(f"{PREFIX}/{NAME}/contributions", params={"rubric": "Cycling"}).json()["contributions"]
    assert cycling and {k["rubric"] for k in cycling} == {"Cycling"} and {k["category"] for k in cycling} == {"Traffic"}
