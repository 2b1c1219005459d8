"""Portal pages over HTTP: every page against every access level, languages, bad input."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conformance.dcat.dcat_samples import LEVELS, VISIBLE, seed


@pytest.fixture
def seeded(client: Any, admin_headers: dict[str, str]) -> dict[str, dict[str, str]]:
    return seed(client, admin_headers)


def test_pages_show_only_what_the_caller_may_see(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    for who in sorted(VISIBLE):
        _check_pages(client, seeded[who], who)


def _check_pages(client: Any, headers: dict[str, str], who: str) -> None:
    for path in ("/", "/datasets", "/datasets?q=", "/organizations/police", "/organizations/parks"):
        r = client.get(path, headers=headers)
        assert r.status_code == 200, (path, r.text)
        for name in LEVELS:
            shown = f'href="/datasets/{name}"' in r.text
            in_scope = path.endswith("/") or path.startswith("/datasets") or \
                name in {"parks": {"street-trees", "bike-counts"}, "police": {"patrol-plans", "witness-register"}}[
                    path.rsplit("/", 1)[-1]]
            assert shown == (name in VISIBLE[who] and in_scope and (path != "/" or True)), (who, path, name)
    for name in LEVELS:
        r = client.get(f"/datasets/{name}", headers=headers)
        assert r.status_code == (200 if name in VISIBLE[who] else 404), (who, name)
        if r.status_code == 404:
            assert LEVELS[name] not in ("open",) and "Protected witnesses" not in r.text
    # the facet counts never count datasets the caller may not see
    page = client.get("/datasets", headers=headers).text
    n = len(VISIBLE[who])
    assert (f"{n} datasets found" if n != 1 else "1 dataset found") in page


def test_inventory_lists_every_dataset_with_grounds_for_anyone(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    r = client.get("/inventory")
    assert r.status_code == 200
    for title in ("Street trees", "Bike counts", "Patrol plans", "Witness register"):
        assert title in r.text
    assert "Security" in r.text and "Personal data" in r.text
    assert "Transparency Act section 3" in r.text
    assert "secret.csv" not in r.text and "patrol.csv" not in r.text  # metadata only
    assert 'href="/datasets/witness-register"' not in r.text


def test_dataset_page_content(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    r = client.get("/datasets/street-trees")
    html = r.text
    for needle in ("Street trees", "Tree steward", "Metadata quality", "Freshness", "Trees CSV",
                   'href="http://example.org/trees.csv"', "/api/3/action/resource_show", "/dataset/street-trees.ttl",
                   'id="map"', "/static/vendor/leaflet/leaflet.js"):
        assert needle in html, needle
    secret = client.get("/datasets/witness-register", headers=seeded["granted"]).text
    assert "Witness register" in secret and "secret.csv" not in secret
    assert "No download: this dataset is not open." in secret
    assert "International relations, public security or national defence" in secret


def test_languages(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    de = client.get("/datasets", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in de.text and "Datensätze" in de.text and de.headers["content-language"] == "de"
    en = client.get("/datasets?lang=en", headers={"Accept-Language": "de"})
    assert '<html lang="en">' in en.text and "1 dataset found" in en.text
    inv = client.get("/inventory?lang=de")
    assert "Gründe für die Nichtveröffentlichung" in inv.text


def test_quality_and_freshness_in_the_page_language(client: Any, seeded: dict[str, dict[str, str]],
                                                    admin_headers: dict[str, str]) -> None:
    """The quality breakdown and the freshness explanation follow ``?lang=``; the API stays English."""
    from html import escape

    # no keywords, an irregular frequency, one of two distributions without a format (a partial share)
    r = client.post("/api/3/action/package_create", headers=admin_headers, json={
        "name": "tree-pits", "title": "Tree pits", "notes": "Tree pits.", "owner_org": "parks",
        "license_id": "CC-BY-4.0", "frequency": "IRREG", "resources": [
            {"name": "Pits CSV", "url": "http://example.org/pits.csv", "format": "CSV"},
            {"name": "Pits", "url": "http://example.org/pits"}]})
    assert r.status_code == 200, r.text
    api = client.get("/api/3/action/quality_show?id=tree-pits").json()["result"]
    indicators = {i["indicator"]: i for i in api["indicators"]}
    assert indicators["keywords"]["label"] == "Keyword usage (dcat:keyword)"
    assert indicators["keywords"]["explanation"] == "No keywords: add tags so that people find the dataset."
    assert indicators["format"]["explanation"] == "Distributions without a format (50% of distributions pass)"
    assert api["freshness"]["explanation"] == "Frequency IRREG has no fixed period."
    assert set(api["dimensions"]) == {"findability", "accessibility", "interoperability", "reusability", "contextuality"}

    de = client.get("/datasets/tree-pits?lang=de").text
    for needle in ("Auffindbarkeit", "Zugänglichkeit", "Interoperabilität", "Wiederverwendbarkeit", "Kontext",
                   "Verwendung von Schlagwörtern (dcat:keyword)", "Kategorien (dcat:theme)",
                   "Keine Schlagwörter: Vergeben Sie Schlagwörter, damit der Datensatz gefunden wird.",
                   "Distributionen ohne Formatangabe (50 % der Distributionen erfüllen das Kriterium)",
                   "Für die Aktualisierungshäufigkeit „Unregelmäßig“ gibt es keinen festen Zeitraum."):
        assert escape(needle, quote=False) in de, needle
    for english in [i["explanation"] for i in api["indicators"]] + [api["freshness"]["explanation"]]:
        assert escape(english, quote=False) not in de, english
    for english in ("Keyword usage", "Findability", "Contextuality", "of distributions pass", "IRREG"):
        assert english not in de, english
    trees = client.get("/datasets/street-trees?lang=de").text
    assert "Zuletzt aktualisiert vor 0,0 Tagen; bei „Monatlich“ sind höchstens 38,75 Tage zulässig." in trees

    en = client.get("/datasets/tree-pits?lang=en").text
    for i in api["indicators"]:
        assert escape(i["label"], quote=False) in en and escape(i["explanation"], quote=False) in en, i
    for needle in ("Findability", "Contextuality", "Frequency “Irregular” has no fixed period."):
        assert needle in en, needle
    assert "Last updated 0.0 days ago; “Monthly” allows 38.75 days." in client.get("/datasets/street-trees").text
    # the API answer is the same whichever language the page was asked in
    assert client.get("/api/3/action/quality_show?id=tree-pits&lang=de").json()["result"]["indicators"] == \
        api["indicators"]


def test_home_keeps_the_api_links(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    html = client.get("/").text
    for href in ("/openapi.json", "/docs", "/healthz", "/metrics", "/catalog.ttl"):
        assert f'href="{href}"' in html
    assert 'role="search"' in html and '<label for="q">' in html


def test_facet_filter_and_htmx_fragment(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    r = client.get("/datasets?organization=parks", headers=seeded["admin"])
    assert "2 datasets found" in r.text and 'aria-current="true"' in r.text
    frag = client.get("/datasets?q=trees", headers={"HX-Request": "true"})
    assert frag.text.lstrip().startswith('<div id="search-area"') and "Street trees" in frag.text


BAD = [("/datasets?page=0", 400), ("/datasets?page=x", 400), ("/datasets?sort=evil", 400),
       ("/datasets/does-not-exist", 404), ("/organizations/nobody", 404), ("/datasets?q=" + "x" * 600, 400),
       ("/datasets?q=%22unbalanced", (200, 400)), ("/datasets?organization=%22%29", (200, 400))]


def test_bad_input_is_a_clean_page(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    for path, status in BAD:
        r = client.get(path)
        assert r.status_code in (status if isinstance(status, tuple) else (status,)), (path, r.text)
        assert r.headers["content-type"].startswith("text/html"), path
        assert "Traceback" not in r.text


def test_hidden_and_missing_datasets_answer_alike(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    """A dataset the caller may not see answers exactly as one that does not exist, on the page and in DCAT."""
    for path in ("/datasets/{}", "/dataset/{}.ttl"):
        hidden = client.get(path.format("witness-register"))
        missing = client.get(path.format("witness-registry"))
        assert hidden.status_code == missing.status_code == 404, path
        def same(text: str, name: str) -> str:
            return re.sub(r'"request_id":"[0-9a-f]+"', "", text.replace(name, "X"))

        assert same(hidden.text, "witness-register") == same(missing.text, "witness-registry"), path
