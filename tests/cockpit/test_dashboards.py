"""Dashboards through the in-process app: files with problems reported (file, line, reason) while the others load,
what an anonymous viewer sees of a dashboard over data that is not open (nothing), the CSV of a panel, hostile
content kept inert, and the English and German pages."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, api_token
from tests.sensing.sta_helpers import thing

NOW = "2024-01-01T00:00:00.000000Z"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

GOOD = """\
title: Bins
title_de: Behälter
panels:
  - type: kpi
    title: Full bins
    sta: "Datastreams?$filter=Thing/properties/kind eq 'bin'"
    aggregate: count
    where: {above: 80}
  - type: table
    title: All bins
    sta: "Datastreams?$filter=Thing/properties/kind eq 'bin'"
    thresholds: [50, 80]
  - type: map
    title: Map of bins
    sta: "Datastreams?$filter=Thing/properties/kind eq 'bin'"
    thresholds: [50, 80]
  - type: timeseries
    title: One bin
    sta: "Datastreams?$filter=Thing/properties/kind eq 'bin'"
"""


def folder(platform: Any) -> Path:
    path = Path(platform.settings.data_path) / "dashboards"
    path.mkdir(parents=True, exist_ok=True)
    return path


def dataset(platform: Any, name: str, access: str, org: str | None = None) -> int:
    return int(platform.db.write_sync(lambda c: c.insert("datasets", {
        "name": name, "title": name, "owner_org": org, "access_level": access, "created_at": NOW,
        "modified_at": NOW})))


def sensor(client: Any, platform: Any, name: str, access: str, value: float, kind: str = "bin",
           org: str | None = None) -> int:
    dsid = dataset(platform, name, access, org)
    body = thing(name, dataset_id=dsid, properties={"kind": kind})
    r = client.post("/sta/v1.1/Things", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    ds = client.get(f"/sta/v1.1/Things({r.json()['@iot.id']})/Datastreams", headers=ADMIN).json()["value"][0]["@iot.id"]
    r = client.post("/sta/v1.1/Observations", json={"result": value, "phenomenonTime": "2024-05-01T10:00:00Z",
                                                    "Datastream": {"@iot.id": ds}}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return int(ds)


def test_files_with_problems_are_reported_and_the_others_load(client: Any, platform: Any) -> None:
    sensor(client, platform, "bin-one", "open", 91.5)
    d = folder(platform)
    (d / "good.yaml").write_text(GOOD, encoding="utf-8")
    (d / "bad-key.yaml").write_text("title: X\npanels:\n  - type: kpi\n    title: K\n    colour: red\n"
                                    "    sta: Datastreams\n", encoding="utf-8")
    (d / "bad-yaml.yaml").write_text("title: X\npanels: [\n  - oops\n", encoding="utf-8")
    (d / "unknown-ds.yaml").write_text("title: X\npanels:\n  - type: table\n    title: T\n"
                                       "    datastreams: [999999]\n", encoding="utf-8")
    (d / "bad-query.yaml").write_text("title: X\npanels:\n  - type: table\n    title: T\n"
                                      "    sta: \"Datastreams?$filter=name eq\"\n", encoding="utf-8")
    (d / "bad-type.yaml").write_text("title: X\npanels:\n  - type: pie\n    title: T\n    sta: Datastreams\n",
                                     encoding="utf-8")
    r = client.get("/dashboards", headers=ADMIN)
    assert r.status_code == 200, r.text
    html = r.text
    assert 'href="/dashboards/good?lang=en"' in html
    problems = platform.services["dashboards"].problems()
    by_file = {p.file: p for p in problems}
    assert set(by_file) == {"bad-key.yaml", "bad-yaml.yaml", "unknown-ds.yaml", "bad-query.yaml", "bad-type.yaml"}
    assert by_file["bad-key.yaml"].line == 5 and "unknown key 'colour'" in by_file["bad-key.yaml"].reason
    assert by_file["bad-yaml.yaml"].line >= 3 and "not valid YAML" in by_file["bad-yaml.yaml"].reason
    assert by_file["unknown-ds.yaml"].line == 5 and "unknown Datastream 999999" in by_file["unknown-ds.yaml"].reason
    assert by_file["bad-query.yaml"].line == 5 and "bad query" in by_file["bad-query.yaml"].reason
    assert by_file["bad-type.yaml"].line == 3 and "must be one of map" in by_file["bad-type.yaml"].reason
    for name in by_file:
        assert name in html  # the list page shows them to publishers
    anonymous = client.get("/dashboards").text
    assert "bad-key.yaml" not in anonymous and "good" in anonymous
    assert client.get("/dashboards/bad-key").status_code == 404
    page = client.get("/dashboards/good")
    assert page.status_code == 200
    assert "Full bins" in page.text and "bin-one" in page.text and "91.5" in page.text
    assert 'id="dashboard-data"' in page.text and "<script>" not in page.text  # no inline script


def test_a_dashboard_over_data_that_is_not_open_shows_nothing_of_it_to_anonymous(client: Any, platform: Any) -> None:
    sensor(client, platform, "hidden-bin", "internal", 77.25, org="org-a")
    sensor(client, platform, "open-bin", "open", 12.5)
    (folder(platform) / "mixed.yaml").write_text(GOOD, encoding="utf-8")
    admin = client.get("/dashboards/mixed", headers=ADMIN).text
    assert "hidden-bin" in admin and "77.25" in admin
    anon = client.get("/dashboards/mixed")
    assert anon.status_code == 200
    assert "hidden-bin" not in anon.text and "77.25" not in anon.text and "77,25" not in anon.text
    assert "open-bin" in anon.text
    for panel in ("p0", "p1", "p2", "p3"):
        got = client.get(f"/dashboards/mixed/panels/{panel}.csv")
        assert got.status_code == 200 and "hidden-bin" not in got.text and "77.2" not in got.text
    reader = api_token(client, "reader", "reader")
    seen = client.get("/dashboards/mixed", headers={"Authorization": f"Bearer {reader}"}).text
    assert "hidden-bin" not in seen  # internal data of org-a: a reader without organisation does not see it


def test_panel_csv_neutralises_formulas_and_pages_keep_hostile_text_inert(client: Any, platform: Any) -> None:
    sensor(client, platform, "=HYPERLINK(\"http://x\")", "open", 5, kind="bin")
    (folder(platform) / "hostile.yaml").write_text(
        "title: \"</script><script>alert(1)</script>\"\npanels:\n  - type: table\n    title: T\n"
        "    sta: \"Datastreams?$filter=Thing/properties/kind eq 'bin'\"\n", encoding="utf-8")
    page = client.get("/dashboards/hostile")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "&lt;/script&gt;" in page.text
    rows = list(csv.reader(io.StringIO(client.get("/dashboards/hostile/panels/p0.csv").text)))
    assert rows[0][0] == "Name"
    assert rows[1][0].startswith("'=")
    assert client.get("/dashboards/hostile/panels/p9.csv").status_code == 404
    assert client.get("/dashboards/hostile/panels/p0.txt").status_code == 404
    assert client.get("/dashboards/nope").status_code == 404


def test_pages_in_english_and_german(client: Any, platform: Any) -> None:
    sensor(client, platform, "bin-de", "open", 81.5)
    (folder(platform) / "good.yaml").write_text(GOOD, encoding="utf-8")
    en = client.get("/dashboards/good")
    de = client.get("/dashboards/good", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert 'lang="en"' in en.text and "Download the values (CSV)" in en.text and "81.5" in en.text
    assert 'lang="de"' in de.text and "Werte herunterladen (CSV)" in de.text and "Behälter" in de.text
    assert "81,5" in de.text
    assert "Dashboards" in client.get("/dashboards?lang=de").text
    assert client.get("/dashboards/good", headers={"Accept": "text/html"}).headers["content-language"] == "en"
    missing = client.get("/dashboards/none-such", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]


@pytest.mark.parametrize("text", ["title: [unclosed\n", "- a list\n", "title: X\npanels: []\n"])
def test_a_file_that_is_no_dashboard_is_reported_not_raised(client: Any, platform: Any, text: str) -> None:
    (folder(platform) / "broken.yaml").write_text(text, encoding="utf-8")
    assert client.get("/dashboards", headers=ADMIN).status_code == 200
    assert [p.file for p in platform.services["dashboards"].problems()] == ["broken.yaml"]


def test_features_panels_read_the_collection_as_the_viewer(client: Any, platform: Any, fx: Any) -> None:
    fx.add_points(platform, "open-places")
    fx.add_points(platform, "hidden-places", dataset_id=fx.add_dataset(platform, "hidden", "internal", "org-a"))
    panels = "".join(f"  - type: {kind}\n    title: {kind} of {name}\n    features: {name}\n"
                     "    value_property: pop\n    label_property: name\n"
                     for name in ("open-places", "hidden-places") for kind in ("kpi", "table", "map"))
    (folder(platform) / "places.yaml").write_text(f"title: Places\npanels:\n{panels}", encoding="utf-8")
    (folder(platform) / "missing.yaml").write_text("title: M\npanels:\n  - type: table\n    title: T\n"
                                                   "    features: no-such-collection\n", encoding="utf-8")
    admin = client.get("/dashboards/places", headers=ADMIN)
    assert admin.status_code == 200, admin.text
    anon = client.get("/dashboards/places").text
    assert anon.count("Place 03") > 0
    assert admin.text.count("Place 03") == 2 * anon.count("Place 03")  # the open collection's only
    rows = list(csv.reader(io.StringIO(client.get("/dashboards/places/panels/p4.csv").text)))
    assert len(rows) == 1  # the hidden collection's table: its header only
    assert [p.file for p in platform.services["dashboards"].problems()] == ["missing.yaml"]


def test_comparisons_with_the_preceding_weekdays_and_the_previous_year(client: Any, platform: Any) -> None:
    ds = sensor(client, platform, "counter", "open", 150, kind="counter")  # Wednesday 2024-05-01 10:00 UTC
    for day, value in (("2024-04-24", 90), ("2024-04-17", 100), ("2024-04-10", 110), ("2024-04-03", 100),
                       ("2024-04-30", 5000), ("2023-05-03", 120)):  # four Wednesdays, another day, a year earlier
        r = client.post("/sta/v1.1/Observations", json={"result": value, "phenomenonTime": f"{day}T10:00:00Z",
                                                        "Datastream": {"@iot.id": ds}}, headers=ADMIN)
        assert r.status_code == 201, r.text
    src = "sta: \"Datastreams?$filter=Thing/properties/kind eq 'counter'\"\n"
    (folder(platform) / "walk.yaml").write_text(
        "title: Walk\npanels:\n"
        f"  - type: kpi\n    title: Year\n    compare: previous_year\n    {src}"
        f"  - type: map\n    title: Usual\n    compare: weekdays\n    {src}"
        f"  - type: timeseries\n    title: Day\n    averages: true\n    {src}", encoding="utf-8")
    page = client.get("/dashboards/walk")
    assert page.status_code == 200, page.text
    text = page.text
    assert "A year earlier (the same hour on 2023-05-03): 120." in text
    assert "+25 %" in text  # 150 against 120
    assert "Compared with the same hour (10:00) on 2024-04-24, 2024-04-17, 2024-04-10, 2024-04-03." in text
    assert "above usual (over 120 %)" in text  # 150 against the mean 100
    assert "The 4-week average is the mean of the same hour on 2024-04-24" in text
    assert "so no 52-week average is shown" in text
    rows = list(csv.reader(io.StringIO(client.get("/dashboards/walk/panels/p2.csv").text)))
    assert rows[11][:3] == ["10:00", "150", "100"]
