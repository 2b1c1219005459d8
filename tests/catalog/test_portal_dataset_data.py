"""The portal's dataset pages give the data: download buttons that answer data files, the first rows of a collection
(not its metadata document), and the flagship SensorThings dataset with its API as a distribution, its sensors on the
map, a chart of recent values and its related dataset; the quality check reads what the download buttons link to."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

import orjson
import pyshacl
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from tests.conformance.dcat.shapes_release import shapes as release_shapes
from tests.conftest import ADMIN_TOKEN as TOKEN
from urbanos.catalog.dcat.vocab import DCAT, DCT
from urbanos.catalog.quality import is_data
from urbanos.governance.gate import ADMIN, ANONYMOUS
from urbanos.ports import SensingPort
from urbanos.sensing.describe import describe_api

STA_SPEC = "http://www.opengis.net/spec/iot_sensing/1.1"
ADMIN_TOKEN = f"Bearer {TOKEN}"


@pytest.fixture
def demo(client: Any, platform: Any, request: Any) -> Any:
    """The demo of the catalogue and features (and of sensing, for tests marked ``sensing`` by name)."""
    wanted = {"catalog", "features"} | ({"sensing"} if "flagship" in request.node.name or "sensing" in request.node.name
                                       else set())
    for component in platform.components:  # in the order `urbanos demo` runs them
        if component.name in wanted:
            component.demo(platform)
    return client


def _quality(platform: Any, name: str) -> dict[str, Any]:
    q = asyncio.run(platform.services["catalog"].quality(ANONYMOUS, name))
    return {i["indicator"]: i for i in q["indicators"]} | {"_dims": q["dimensions"]}


def _links(page: str) -> list[tuple[str, str]]:
    """(href, aria-label) of every link with an aria-label."""
    return [(html.unescape(h), html.unescape(label)) for h, label in
            re.findall(r'<a class="button" href="([^"]+)" download\s+aria-label="([^"]+)"', page)]


def test_download_buttons_give_the_data_in_four_formats(demo: Any) -> None:
    page = demo.get("/datasets/hamburg-bezirke").text
    links = _links(page)
    assert [h for h, _ in links] == [f"/download/hamburg-bezirke.{e}" for e in ("geojson", "csv", "parquet", "xlsx")]
    assert ("/download/hamburg-bezirke.csv", "Download hamburg-bezirke as CSV") in links
    assert 'href="/ogcapi/collections/hamburg-bezirke" download' not in page  # the metadata document is no download
    r = demo.get("/download/hamburg-bezirke.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert is_data("csv", r.headers["content-type"], r.content[:2048])
    assert not r.content.startswith(b"{")


def test_first_rows_are_the_data_with_the_collections_fields(demo: Any) -> None:
    page = demo.get("/datasets/pedestrian-sensors").text
    table = page.split('id="first-rows"', 1)[1].split("</table>", 1)[0]
    heads = re.findall(r'<th scope="col">([^<]*)</th>', table)
    assert heads[:3] == ["sensor_id", "sensor_description", "sensor_name"] and "latitude" in heads
    assert len(re.findall(r"<tr>", table)) == 1 + 20
    assert "links" not in heads and "{id:" not in table and "hamburg" not in table
    assert 'id="preview-table"' not in page  # not the CSV reader over the collection's metadata


def test_quality_fetches_what_the_download_button_links_to(demo: Any, platform: Any) -> None:
    q = _quality(platform, "hamburg-bezirke")
    assert q["download_url_ok"]["passed"] and "data in its format" in q["download_url_ok"]["explanation"]
    # a distribution whose download is a JSON metadata document fails the check
    r = demo.post("/api/3/action/resource_create", headers={"Authorization": ADMIN_TOKEN}, json={
        "package_id": "hamburg-bezirke", "name": "collection document", "format": "CSV",
        "url": "/ogcapi/collections/hamburg-bezirke"})
    assert r.status_code == 200, r.text
    q = _quality(platform, "hamburg-bezirke")
    assert not q["download_url_ok"]["passed"] and q["download_url_ok"]["share"] == 0.5


def test_is_data_tells_data_from_metadata() -> None:
    assert is_data("csv", "text/csv; charset=utf-8", b"id,name\n1,a\n")
    assert not is_data("csv", "application/json", b'{"id": "hamburg-benches", "links": []}')
    assert not is_data("json", "application/json", b'{"id": "x", "itemType": "feature", "links": [], "extent": {}}')
    assert is_data("geojson", "application/geo+json", b'{"type":"FeatureCollection","features":[]}')
    assert is_data("parquet", "application/vnd.apache.parquet", b"PAR1\x15\x04")
    assert is_data("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04")
    assert is_data("json", "application/json", b'{"value": [{"@iot.id": 1}]}')


def test_the_flagship_dataset_has_its_api_sensors_chart_and_relation(demo: Any, platform: Any) -> None:
    pkg = demo.get("/api/3/action/package_show?id=melbourne-pedestrian-counts").json()["result"]
    [res] = pkg["resources"]
    assert "/sta/v1.1/Datastreams?$filter=" in res["url"] and res["conforms_to"] == STA_SPEC
    data = demo.get(res["url"])
    assert data.status_code == 200 and data.json()["value"], data.text  # the link answers the Datastreams
    page = demo.get("/datasets/melbourne-pedestrian-counts").text
    assert "No distributions yet" not in page and "SensorThings API" in page
    sensors = orjson.loads(html.unescape(page.split('id="sensors">', 1)[1].split("</script>", 1)[0]))
    assert sensors["type"] == "FeatureCollection" and len(sensors["features"]) >= 2
    assert all(f["geometry"]["type"] == "Point" for f in sensors["features"])
    assert 'id="chart"' in page and "<polyline points=" in page
    assert 'href="/datasets/pedestrian-sensors"' in page.split('id="related"', 1)[1].split("</ul>", 1)[0]
    back = demo.get("/datasets/pedestrian-sensors").text
    assert 'href="/datasets/melbourne-pedestrian-counts"' in back.split('id="related"', 1)[1].split("</ul>", 1)[0]
    q = _quality(platform, "melbourne-pedestrian-counts")
    assert q["_dims"]["accessibility"]["points"] == 100, q
    assert q["access_url"]["passed"] and q["download_url_ok"]["passed"]
    describe_api(platform, "melbourne-pedestrian-counts", "melbourne-pedestrian")  # once: the demo is idempotent
    again = demo.get("/api/3/action/package_show?id=melbourne-pedestrian-counts").json()["result"]
    assert [r["id"] for r in again["resources"]] == [res["id"]]
    # the DCAT export names the API as the distribution's data service, and stays valid DCAT-AP
    ttl = demo.get("/dataset/melbourne-pedestrian-counts.ttl")
    g = Graph().parse(data=ttl.content, format="turtle")
    [svc] = list(g.objects(None, DCAT.accessService))
    assert g.value(svc, DCT.conformsTo) == URIRef(STA_SPEC) and (svc, RDF.type, DCAT.DataService) in g
    assert list(g.objects(None, DCT.relation)) == [URIRef("http://testserver/dataset/pedestrian-sensors")]
    _conforms, report, text = pyshacl.validate(g, shacl_graph=release_shapes("3.0.1"), allow_warnings=True)
    assert not [r for r in report.subjects(RDF.type, SH.ValidationResult)
                if report.value(r, SH.resultSeverity) == SH.Violation], text


def test_the_sensing_answer_keeps_to_the_gate(demo: Any, platform: Any) -> None:
    sensing = platform.require(SensingPort)
    assert asyncio.run(sensing.dataset_sensors(ANONYMOUS, "melbourne-pedestrian-counts", 5))
    r = demo.post("/api/3/action/package_patch", headers={"Authorization": ADMIN_TOKEN}, json={
        "id": "melbourne-pedestrian-counts", "access_level": "internal", "grounds": ["security"],
        "legal_basis": "test"})
    assert r.status_code == 200, r.text
    assert asyncio.run(sensing.dataset_sensors(ANONYMOUS, "melbourne-pedestrian-counts", 5)) == []
    assert asyncio.run(sensing.dataset_sensors(ADMIN, "melbourne-pedestrian-counts", 5))
    # the open sensors dataset no longer names it
    back = demo.get("/datasets/pedestrian-sensors").text
    assert 'id="related"' not in back and 'href="/datasets/melbourne-pedestrian-counts"' not in back

