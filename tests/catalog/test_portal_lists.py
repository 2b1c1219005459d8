"""The portal's organisation and theme pages (counts never include datasets the caller may not read), the site
icon, and the demo's temporal coverage against its data."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, api_token
from urbanos.governance.gate import ADMIN as ADMIN_IDENTITY

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DATASETS = [("trees", "parks", "open", ["ENVI"]), ("benches", "parks", "open", ["ENVI", "living"]),
            ("nests", "parks", "confidential", ["ENVI"]), ("patrols", "police", "internal", ["JUST"])]


@pytest.fixture
def site(client: Any) -> Any:
    for org in ("parks", "police", "empty"):
        r = client.post("/api/3/action/organization_create", json={"name": org, "title": f"{org.title()} Department"},
                        headers=ADMIN)
        assert r.status_code == 200, r.text
    for name, org, level, themes in DATASETS:
        r = client.post("/api/3/action/package_create", headers=ADMIN, json={
            "name": name, "title": name.title(), "owner_org": org, "access_level": level, "theme": themes,
            "grounds": [] if level == "open" else ["security"]})
        assert r.status_code == 200, r.text
    return client


def count(page: str, kind: str, key: str) -> str:
    m = re.search(rf'id="{kind}-count-{key}">([^<]+)<', page)
    assert m, page
    return m.group(1)


def test_organisations_list_with_the_counts_the_caller_may_see(site: Any) -> None:
    page = site.get("/organizations", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (count(page.text, "org", "parks"), count(page.text, "org", "police"), count(page.text, "org", "empty")) == \
        ("2 datasets", "0 datasets", "0 datasets")
    assert 'href="/organizations/parks"' in page.text and "Parks Department" in page.text
    assert "nests" not in page.text.lower() and "patrols" not in page.text.lower()
    police = {"Authorization": f"Bearer {api_token(site, 'police reader', 'reader', 'police')}"}
    mine = site.get("/organizations", headers=police).text
    assert (count(mine, "org", "parks"), count(mine, "org", "police")) == ("2 datasets", "1 dataset")
    admin = site.get("/organizations", headers=ADMIN).text
    assert count(admin, "org", "parks") == "3 datasets"
    de = site.get("/organizations?lang=de").text
    assert "Organisationen" in de and count(de, "org", "parks") == "2 Datensätze"


def test_an_organisation_page_lists_only_what_the_caller_may_read(site: Any) -> None:
    page = site.get("/organizations/parks")
    assert page.status_code == 200 and "2 datasets found" in page.text
    assert "/datasets/trees" in page.text and "/datasets/nests" not in page.text
    assert site.get("/organizations/nobody").status_code == 404


def test_themes_list_and_a_themes_datasets(site: Any) -> None:
    page = site.get("/themes")
    assert page.status_code == 200
    assert (count(page.text, "theme", "ENVI"), count(page.text, "theme", "living"), count(page.text, "theme", "JUST")) == \
        ("2 datasets", "1 dataset", "0 datasets")
    assert 'href="/themes/ENVI"' in page.text and "Environment" in page.text and "Smart living" in page.text
    assert count(site.get("/themes", headers=ADMIN).text, "theme", "ENVI") == "3 datasets"
    envi = site.get("/themes/ENVI")
    assert envi.status_code == 200 and "2 datasets found" in envi.text
    assert "/datasets/trees" in envi.text and "/datasets/benches" in envi.text and "/datasets/nests" not in envi.text
    de = site.get("/themes?lang=de").text
    assert "Datenthemen der EU" in de and "Umwelt" in de and count(de, "theme", "ENVI") == "2 Datensätze"
    missing = site.get("/themes/NOPE")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert site.get("/themes/ENVI?page=zero").status_code == 400


def test_the_navigation_links_the_lists_and_the_site_has_an_icon(site: Any) -> None:
    page = site.get("/datasets").text
    assert 'href="/organizations"' in page and 'href="/themes"' in page
    assert '<link rel="icon" href="/favicon.ico"' in page
    icon = site.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png" and icon.content.startswith(b"\x89PNG")
    svg = site.get("/portal/static/favicon.svg")
    assert svg.status_code == 200 and svg.text.startswith("<svg")


def test_the_demo_temporal_coverage_agrees_with_its_data(platform: Any, client: Any) -> None:
    for component in platform.components:  # in the order `urbanos demo` runs them
        if component.name in ("sensing", "catalog"):
            component.demo(platform)
    svc = platform.services["catalog"]
    pkg = asyncio.run(svc.package_show(ADMIN_IDENTITY, "melbourne-pedestrian-counts"))
    first = client.get("/sta/v1.1/Observations", params={"$orderby": "phenomenonTime asc", "$top": 1,
                                                          "$select": "phenomenonTime"}).json()["value"][0]
    last = client.get("/sta/v1.1/Observations", params={"$orderby": "phenomenonTime desc", "$top": 1,
                                                         "$select": "phenomenonTime"}).json()["value"][0]
    start = first["phenomenonTime"].split("/")[0]
    end = last["phenomenonTime"].split("/")[-1]
    assert pkg["temporal_start"] == start[:10], (pkg["temporal_start"], start)
    assert pkg["temporal_end"] == end[:10], (pkg["temporal_end"], end)


def test_the_interface_around_the_data_speaks_german_too(site: Any) -> None:
    """The header, the services' cards, the theme facet and the live-values box follow the page's language."""
    de = site.get("/?lang=de").text
    for text in ("Zum Inhalt springen", "urbane Datenplattform", "Karten &amp; Geodaten", "Datenkatalog-API",
                 "API-Dokumentation", "Sensorwerte live über MQTT", "Umwelt", "Leben in der Stadt"):
        assert text in de, text
    for text in ("Skip to content", "urban data platform", "Maps &amp; geodata", "Live sensor values over MQTT",
                 "Smart living"):
        assert text not in de, text
    en = site.get("/?lang=en").text
    for text in ("Skip to content", "urban data platform", "Maps &amp; geodata", "Live sensor values over MQTT",
                 "Environment", "Smart living"):
        assert text in en, text
