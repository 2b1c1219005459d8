"""Dataset titles and descriptions in several languages (``title_translated``, ``notes_translated``, the
ckanext-fluent convention): written through the Action API and the portal form, validated, searched with German
stems, shown in the page's language with ``lang`` attributes, exported as language-tagged DCAT literals and kept
by harvests between two live instances."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyshacl
import pytest
from rdflib import Graph, Literal
from rdflib.namespace import RDF, SH

from tests.catalog.test_portal_edit import csrf_of, sign_in
from tests.catalog_harvest.harvest_helpers import ADMIN as LIVE_ADMIN
from tests.catalog_harvest.harvest_helpers import InProcess, action
from tests.conformance.dcat.shapes_release import shapes as release_shapes
from tests.conftest import ADMIN_TOKEN, BACKEND, PG_URL
from urbanos.catalog.dcat.parse import packages_from
from urbanos.catalog.dcat.vocab import DCAT, DCT

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TITLES = {"en": "Districts of Hamburg", "de": "Bezirke Hamburg"}
NOTES = {"en": "The seven districts as polygons.", "de": "Die sieben Bezirke als Polygone."}
HOSTILE = '</script><script>alert(1)</script>'


def call(client: Any, name: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return client.post(f"/api/3/action/{name}", json=body, headers=ADMIN if headers is None else headers)


def show(client: Any, name: str) -> dict[str, Any]:
    r = client.get(f"/api/3/action/package_show?id={name}", headers=ADMIN)
    assert r.status_code == 200, r.text
    return dict(r.json()["result"])


def found(client: Any, q: str) -> set[str]:
    r = client.get("/api/3/action/package_search", params={"q": q, "rows": 100})
    assert r.status_code == 200, r.text
    return {p["name"] for p in r.json()["result"]["results"]}


@pytest.fixture
def site(client: Any) -> Any:
    for org in ("geo", "other"):
        assert call(client, "organization_create", {"name": org, "title": org.title()}).status_code == 200
    r = call(client, "package_create", {"name": "districts", "title": "Districts of Hamburg", "owner_org": "geo",
                                        "notes": "The seven districts as polygons.", "title_translated": TITLES,
                                        "notes_translated": NOTES, "tags": ["boundaries"]})
    assert r.status_code == 200, r.text
    r = call(client, "package_create", {"name": "trees", "title": "Street trees", "owner_org": "geo",
                                        "notes": "Every tree in the streets."})
    assert r.status_code == 200, r.text
    return client


# -- Action API -------------------------------------------------------------------------------------------------
def test_create_update_and_patch_keep_the_translations(site: Any) -> None:
    pkg = show(site, "districts")
    assert pkg["title"] == "Districts of Hamburg" and pkg["notes"] == "The seven districts as polygons."
    assert pkg["title_translated"] == TITLES and pkg["notes_translated"] == NOTES
    assert show(site, "trees")["title_translated"] == {} and show(site, "trees")["notes_translated"] == {}
    searched = site.get("/api/3/action/package_search", params={"q": "name:districts"}).json()["result"]["results"]
    assert searched[0]["title_translated"] == TITLES and searched[0]["notes_translated"] == NOTES

    r = call(site, "package_patch", {"id": "districts", "title": "Hamburg districts"})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["title_translated"] == TITLES and show(site, "districts")["notes_translated"] == NOTES

    r = call(site, "package_patch", {"id": "districts", "title_translated": {"de": "Bezirke", "de-CH": "Bezirke (CH)"}})
    assert r.status_code == 200, r.text
    assert show(site, "districts")["title_translated"] == {"de": "Bezirke", "de-CH": "Bezirke (CH)"}

    # a form post or a CKAN client may send the object as JSON text
    r = call(site, "package_patch", {"id": "trees", "notes_translated": '{"de": "Jeder Straßenbaum."}'})
    assert r.status_code == 200, r.text
    assert show(site, "trees")["notes_translated"] == {"de": "Jeder Straßenbaum."}

    # package_update replaces the whole package: what it leaves out is gone, as in CKAN
    r = call(site, "package_update", {"id": "trees", "title": "Street trees", "owner_org": "geo",
                                      "title_translated": {"de": "Straßenbäume"}})
    assert r.status_code == 200, r.text
    after = show(site, "trees")
    assert after["title_translated"] == {"de": "Straßenbäume"} and after["notes_translated"] == {}


def test_the_main_title_comes_from_the_translations_when_it_is_missing(site: Any) -> None:
    r = call(site, "package_create", {"name": "parks", "owner_org": "geo", "title_translated": {"de": "Parks", "en": "Parks EN"},
                                      "notes_translated": {"de": "Alle Parks."}})
    assert r.status_code == 200, r.text
    pkg = show(site, "parks")
    assert pkg["title"] == "Parks EN" and pkg["notes"] == "Alle Parks."
    # empty texts are left out
    r = call(site, "package_patch", {"id": "parks", "title_translated": {"de": "", "en": "Parks EN"}})
    assert r.status_code == 200, r.text
    assert show(site, "parks")["title_translated"] == {"en": "Parks EN"}


BAD = [
    ("title_translated", ["Bezirke"]),
    ("title_translated", 5),
    ("title_translated", "Bezirke"),
    ("title_translated", {"DE": "Bezirke"}),
    ("title_translated", {"deutsch": "Bezirke"}),
    ("title_translated", {"d": "Bezirke"}),
    ("title_translated", {"de_CH": "Bezirke"}),
    ("title_translated", {"de-ch": "Bezirke"}),
    ("title_translated", {"": "Bezirke"}),
    ("title_translated", {"de": 5}),
    ("title_translated", {"de": None}),
    ("title_translated", {"de": ["Bezirke"]}),
    ("title_translated", {"de": "x" * 1001}),
    ("title_translated", {chr(97 + i // 26) + chr(97 + i % 26): "x" for i in range(51)}),  # 51 languages
    ("notes_translated", {"de": {"text": "Bezirke"}}),
    ("notes_translated", [{"de": "Bezirke"}]),
    ("notes_translated", {"de-CH-x": "Bezirke"}),
]


@pytest.mark.parametrize("field, value", BAD)
def test_bad_translations_are_validation_errors_that_change_nothing(site: Any, field: str, value: Any) -> None:
    before = show(site, "districts")
    for name, body in (("package_create", {"name": "new-one", "title": "New", "owner_org": "geo", field: value}),
                       ("package_update", {**before, field: value}),
                       ("package_patch", {"id": "districts", field: value})):
        r = call(site, name, body)
        assert r.status_code == 409, (name, r.text)
        err = r.json()["error"]
        assert err["__type"] == "Validation Error" and field in err, (name, err)
    assert show(site, "districts") == before
    assert site.get("/api/3/action/package_show?id=new-one", headers=ADMIN).status_code == 404


def test_another_organisations_publisher_may_not_write_translations(site: Any) -> None:
    token = site.post("/admin/tokens", json={"role": "publisher", "org": "other", "name": "other publisher"},
                      headers=ADMIN).json()["token"]
    r = call(site, "package_patch", {"id": "districts", "title_translated": {"de": "Übernommen"}},
             headers={"Authorization": token})
    assert r.status_code in (403, 404), r.text
    assert show(site, "districts")["title_translated"] == TITLES


# -- search -----------------------------------------------------------------------------------------------------
def test_german_words_find_the_dataset_and_english_words_keep_working(site: Any) -> None:
    for q in ("Bezirke", "bezirk", "Bezirk", "Polygone", "districts", "district", "polygons"):
        assert found(site, q) == {"districts"}, q
    call(site, "package_patch", {"id": "trees", "title_translated": {"de": "Straßenbäume"}})
    assert found(site, "Straßenbäume") == found(site, "strassenbaum") == {"trees"}
    assert found(site, "trees") == {"trees"}
    # a translation removed is no longer found
    call(site, "package_patch", {"id": "trees", "title_translated": {}})
    assert found(site, "strassenbaum") == set()


# -- portal -----------------------------------------------------------------------------------------------------
def h1(page: str) -> str:
    m = re.search(r"<h1[^>]*>.*?</h1>", page, re.S)
    assert m
    return m.group(0)


def test_the_portal_shows_the_page_languages_text_and_marks_the_others(site: Any) -> None:
    de = site.get("/datasets/districts?lang=de").text
    assert h1(de) == "<h1>Bezirke Hamburg</h1>" and '<html lang="de">' in de
    assert re.search(r"<title>\s*Bezirke Hamburg ·", de)
    assert '<div class="notes"><p>Die sieben Bezirke als Polygone.</p></div>' in de
    en = site.get("/datasets/districts?lang=en").text
    assert h1(en) == "<h1>Districts of Hamburg</h1>" and '<html lang="en">' in en
    # no German text: the English one, marked as English on the German page (WCAG 3.1.2)
    trees = site.get("/datasets/trees?lang=de").text
    assert h1(trees) == '<h1 lang="en">Street trees</h1>'
    assert '<div class="notes" lang="en"><p>Every tree in the streets.</p></div>' in trees
    assert 'lang="en"' not in h1(site.get("/datasets/trees").text)
    # lists: search results, the organisation's page, the landing page
    for path in ("/datasets?lang=de", "/organizations/geo?lang=de", "/?lang=de"):
        page = site.get(path).text
        assert '?lang=de">Bezirke Hamburg</a>' in page, path
        assert '?lang=de" lang="en">Street trees</a>' in page, path
        assert '<p>Die sieben Bezirke als Polygone.</p>' in page, path
    page = site.get("/datasets?q=Bezirke&lang=de").text
    assert "Bezirke Hamburg" in page and "Street trees" not in page
    # a regional variant serves its language when the plain one is missing
    call(site, "package_patch", {"id": "trees", "title_translated": {"de-CH": "Strassenbäume"}})
    assert h1(site.get("/datasets/trees?lang=de").text) == '<h1 lang="de-CH">Strassenbäume</h1>'


def test_related_datasets_are_named_in_the_page_language(site: Any) -> None:
    call(site, "package_patch", {"id": "trees", "extras": [{"key": "related", "value": "districts"}]})
    page = site.get("/datasets/trees?lang=de").text
    assert re.search(r'id="related">.*Bezirke Hamburg</a>', page, re.S)


def test_hostile_translated_text_stays_inert(site: Any) -> None:
    r = call(site, "package_patch", {"id": "trees", "title_translated": {"de": HOSTILE}, "notes_translated": {"de": HOSTILE},
                                     "spatial": '{"type": "Point", "coordinates": [10, 53.5]}'})
    assert r.status_code == 200, r.text
    assert show(site, "trees")["title_translated"] == {"de": HOSTILE}
    for path in ("/datasets/trees?lang=de", "/datasets?lang=de", "/?lang=de"):
        page = site.get(path).text
        assert HOSTILE not in page and "<script>alert(1)" not in page, path
        assert html.escape(HOSTILE, quote=False) in page or html.escape(HOSTILE) in page, path
    page = site.get("/datasets/trees?lang=de").text
    for body in re.findall(r"<script[^>]*>(.*?)</script>", page, re.S):  # JSON data blocks end where they should
        assert "alert(1)" not in body
    ttl = site.get("/dataset/trees.ttl").text
    assert Graph().parse(data=ttl, format="turtle").value(predicate=DCT.title, object=Literal(HOSTILE, lang="de")) is not None


def test_the_edit_form_has_german_title_and_description(site: Any) -> None:
    sign_in(site, "publisher", "geo")
    form = site.get("/datasets/districts/edit?lang=de").text
    assert 'id="f-title_de" name="title_de"' in form and 'value="Bezirke Hamburg"' in form
    assert 'Die sieben Bezirke als Polygone.</textarea>' in form and "Titel auf Deutsch" in form
    assert "Title in German" in site.get("/datasets/districts/edit?lang=en").text
    data = {"csrf": csrf_of(site, "/datasets/districts/edit"), "title": "Districts of Hamburg",
            "notes": "The seven districts.", "title_de": "Hamburger Bezirke", "notes_de": "", "access_level": "open"}
    r = site.post("/datasets/districts/edit", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    pkg = show(site, "districts")
    assert pkg["title_translated"] == {"en": "Districts of Hamburg", "de": "Hamburger Bezirke"}
    assert pkg["notes_translated"] == {"en": NOTES["en"]}  # the German one cleared, the others kept
    data["csrf"] = csrf_of(site, "/datasets/districts/edit")
    bad = site.post("/datasets/districts/edit", data={**data, "title_de": "x" * 1001}, follow_redirects=False)
    assert bad.status_code == 400 and 'id="err-title_de"' in bad.text and 'aria-invalid="true"' in bad.text
    assert show(site, "districts") == pkg
    new = site.post("/datasets/new", data={"csrf": csrf_of(site, "/datasets/new"), "owner_org": "geo", "name": "lakes",
                                           "title": "Lakes", "title_de": "Seen", "access_level": "open"},
                    follow_redirects=False)
    assert new.status_code == 303, new.text
    assert show(site, "lakes")["title_translated"] == {"de": "Seen"}


# -- DCAT -------------------------------------------------------------------------------------------------------
def test_dcat_has_language_tagged_titles_and_descriptions(site: Any) -> None:
    for fmt, parser in (("ttl", "turtle"), ("jsonld", "json-ld"), ("rdf", "xml")):
        r = site.get(f"/dataset/districts.{fmt}")
        assert r.status_code == 200, r.text
        g = Graph().parse(data=r.content, format=parser)
        ds = next(g.subjects(RDF.type, DCAT.Dataset))
        titles = set(g.objects(ds, DCT.title))
        assert Literal("Bezirke Hamburg", lang="de") in titles and Literal("Districts of Hamburg") in titles, fmt
        assert Literal("Die sieben Bezirke als Polygone.", lang="de") in set(g.objects(ds, DCT.description)), fmt
        [pkg] = packages_from(g)  # parsed back as a harvest reads it
        assert pkg["title"] == "Districts of Hamburg"
        assert pkg["title_translated"] == TITLES and pkg["notes_translated"] == NOTES
    assert '"Bezirke Hamburg"@de' in site.get("/dataset/districts.ttl").text


@pytest.mark.parametrize("release", ["3.0.1", "3.0.0"])
def test_the_export_with_translations_conforms_to_dcat_ap(site: Any, release: str) -> None:
    g = Graph().parse(data=site.get("/catalog.ttl", headers=ADMIN).content, format="turtle")
    assert Literal("Bezirke Hamburg", lang="de") in set(g.objects(None, DCT.title))
    _conforms, report, text = pyshacl.validate(g, shacl_graph=release_shapes(release), allow_warnings=True)
    violations = [r for r in report.subjects(RDF.type, SH.ValidationResult)
                  if report.value(r, SH.resultSeverity) == SH.Violation]
    assert not violations, text


# -- harvest between two live instances -------------------------------------------------------------------------
@pytest.fixture
def source_db(tmp_path: Path) -> Iterator[str]:
    """An empty database of the back end under test for the source instance."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'source.db'}"
        return
    import psycopg

    schema = "t_" + secrets.token_hex(6)
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema},public')}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.mark.parametrize("kind", ["ckan", "dcat"])
def test_harvest_between_two_instances_keeps_the_translations(db_url: str, source_db: str, kind: str,
                                                             server_factory: Callable[..., Any],
                                                             make_settings: Callable[..., Any]) -> None:
    source = server_factory(source_db)
    assert action(source.url, "organization_create", {"name": "geo", "title": "Geo"}).status_code == 200
    r = action(source.url, "package_create", {"name": "districts", "title": "Districts of Hamburg", "owner_org": "geo",
                                              "notes": NOTES["en"], "title_translated": TITLES,
                                              "notes_translated": {"de": NOTES["de"]}}, LIVE_ADMIN)
    assert r.status_code == 200, r.text
    inproc = InProcess(make_settings(harvest_timeout=10.0, harvest_retry_seconds=3600.0))
    inproc.add("city", kind, source.url if kind == "ckan" else f"{source.url}/catalog.ttl")
    [report] = inproc.run("city")
    assert report["created"] == 1 and report["failed"] == 0, report
    local = server_factory(db_url)
    pkg = action(local.url, "package_show?id=districts").json()["result"]
    assert pkg["title"] == "Districts of Hamburg"
    assert pkg["title_translated"] == TITLES and pkg["notes_translated"] == {"de": NOTES["de"]}
    hits = action(local.url, "package_search?q=bezirk").json()["result"]["results"]
    assert [p["name"] for p in hits] == ["districts"]


# -- demo -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("order", [("catalog", "features"), ("features", "catalog")])
def test_the_demos_hamburg_datasets_have_german_titles_whichever_demo_runs_first(platform: Any, client: Any,
                                                                                 order: tuple[str, str]) -> None:
    by_name = {c.name: c for c in platform.components}
    for name in order:  # the features demo may create the datasets before the catalogue's metadata waits for them
        by_name[name].demo(platform)
    for name, german in (("hamburg-bezirke", "Bezirke Hamburg"), ("hamburg-stadtteile", "Stadtteile Hamburg")):
        pkg = show(client, name)
        assert pkg["title_translated"] == {"de": german}, (order, pkg["title_translated"])
        assert pkg["notes_translated"]["de"].startswith("Grenzen der")
    assert found(client, "Bezirke") == found(client, "bezirk") == {"hamburg-bezirke"}
    assert h1(client.get("/datasets/hamburg-bezirke?lang=de").text) == "<h1>Bezirke Hamburg</h1>"
