"""DCAT-AP mapping checked with pyshacl against the DCAT-AP 3 SHACL shapes."""

from __future__ import annotations

import copy
from typing import Any

import pyshacl
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from tests.conformance.dcat.dcat_samples import CONFIDENTIAL, MINIMAL, OPEN
from tests.conformance.dcat.shapes_release import shapes as release_shapes
from tests.conftest import SQLITE_RUN_ONLY
from urbanos.catalog.dcat.mapping import CatalogInfo, catalog_graph, dataset_graph, serialize
from urbanos.catalog.dcat.vocab import ACCESS_RIGHT, DCAT, DCATDE, DCT, HYDRA

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end

BASE = "http://city.example"


@pytest.fixture(scope="module", params=["3.0.1", "3.0.0"])
def shapes(request: pytest.FixtureRequest) -> Graph:
    return release_shapes(request.param)


def info(profile: str = "dcatap") -> CatalogInfo:
    return CatalogInfo(base_url=BASE, title="Demo catalogue", description="Open data of the city.",
                       publisher_name="Demo City", profile=profile,
                       contributor_id="http://dcat-ap.de/def/contributors/demoCity",
                       geocoding_uri="http://dcat-ap.de/def/politicalGeocoding/municipalityKey/02000000",
                       attribution="Demo City")


def results(shapes: Graph, data: Graph) -> tuple[list[str], list[str]]:
    _conforms, report, _text = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True)
    violations, warnings = [], []
    for r in report.subjects(RDF.type, SH.ValidationResult):
        sev = report.value(r, SH.resultSeverity)
        line = f"{report.value(r, SH.focusNode)} {report.value(r, SH.resultPath)} {report.value(r, SH.resultMessage)}"
        (violations if sev == SH.Violation else warnings).append(line)
    return violations, warnings


@pytest.mark.parametrize("profile", ["dcatap", "dcatapde"])
def test_catalog_page_conforms(shapes: Graph, profile: str) -> None:
    g = catalog_graph([OPEN, CONFIDENTIAL], info(profile), fmt="ttl", page=1, page_size=10, total=2)
    violations, warnings = results(shapes, g)
    assert violations == []
    # the confidential dataset has no contact point, no spatial and no temporal coverage: recommended only
    assert any("witness-register" in w and "contactPoint" in w for w in warnings)
    assert not any("street-trees" in w for w in warnings), warnings


def test_minimal_package_is_valid_with_warnings(shapes: Graph) -> None:
    violations, warnings = results(shapes, dataset_graph(MINIMAL, info()))
    assert violations == []
    assert any("keyword" in w for w in warnings)


def test_missing_mandatory_is_a_violation(shapes: Graph) -> None:
    g = dataset_graph(OPEN, info())
    ds = URIRef(f"{BASE}/dataset/street-trees")
    g.remove((ds, DCT.title, None))
    dist = next(g.objects(ds, DCAT.distribution))
    g.remove((dist, DCAT.accessURL, None))
    violations, _ = results(shapes, g)
    assert any("title" in v for v in violations)
    assert any("accessURL" in v for v in violations)


def test_release_301_relaxes_rights_cardinality() -> None:
    """Two rights statements on a Distribution: a violation under 3.0.0, allowed since 3.0.1."""
    g = dataset_graph(OPEN, info())
    dist = next(g.objects(URIRef(f"{BASE}/dataset/street-trees"), DCAT.distribution))
    for k in (1, 2):
        rights = URIRef(f"{BASE}/rights/{k}")
        g.add((dist, DCT.rights, rights))
        g.add((rights, RDF.type, DCT.RightsStatement))
    old, _ = results(release_shapes("3.0.0", recommended=False), g)
    new, _ = results(release_shapes("3.0.1", recommended=False), g)
    assert any("rights" in v for v in old) and new == []


def test_non_open_is_non_public_with_grounds_and_no_download() -> None:
    g = dataset_graph(CONFIDENTIAL, info())
    ds = URIRef(f"{BASE}/dataset/witness-register")
    assert g.value(ds, DCT.accessRights) == ACCESS_RIGHT.NON_PUBLIC
    assert list(g.subject_objects(DCAT.downloadURL)) == []
    rights = {str(o) for o in g.objects(ds, DCT.rights)}
    assert ("http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/INSPIRE_Directive_Article13_1b"
            in rights)
    assert f"{BASE}/grounds/gdpr-personal-data" in rights
    assert "http://example.org/secret.csv" not in serialize(g, "ttl").decode()


def test_open_has_download_and_public() -> None:
    g = dataset_graph(OPEN, info())
    ds = URIRef(f"{BASE}/dataset/street-trees")
    assert g.value(ds, DCT.accessRights) == ACCESS_RIGHT.PUBLIC
    downloads = {str(o) for o in g.objects(None, DCAT.downloadURL)}
    assert downloads == {"http://example.org/trees.csv", "http://example.org/trees.geojson"}
    assert str(g.value(ds, DCT.accrualPeriodicity)).endswith("/frequency/MONTHLY")
    themes = {str(t) for t in g.objects(ds, DCAT.theme)}
    assert "http://publications.europa.eu/resource/authority/data-theme/ENVI" in themes


def test_hydra_paging_links() -> None:
    g = catalog_graph([OPEN], info(), fmt="jsonld", page=2, page_size=1, total=3)
    view = URIRef(f"{BASE}/catalog.jsonld?page=2")
    assert (view, RDF.type, HYDRA.PartialCollectionView) in g
    assert str(g.value(view, HYDRA.first)).endswith("page=1")
    assert str(g.value(view, HYDRA.last)).endswith("page=3")
    assert str(g.value(view, HYDRA["next"])).endswith("page=3")
    assert str(g.value(view, HYDRA.previous)).endswith("page=1")
    first = catalog_graph([OPEN], info(), fmt="ttl", page=1, page_size=1, total=1)
    v1 = URIRef(f"{BASE}/catalog.ttl?page=1")
    assert first.value(v1, HYDRA["next"]) is None and first.value(v1, HYDRA.previous) is None


@pytest.mark.parametrize("fmt,parse_as", [("ttl", "turtle"), ("jsonld", "json-ld"), ("rdf", "xml")])
def test_serialisations_round_trip(fmt: str, parse_as: str) -> None:
    g = catalog_graph([OPEN, CONFIDENTIAL], info(), fmt=fmt, page=1, page_size=10, total=2)
    back = Graph().parse(data=serialize(g, fmt), format=parse_as)
    assert len(back) == len(g)


def test_dcatapde_profile_adds_fields() -> None:
    pkg = copy.deepcopy(CONFIDENTIAL)
    g = dataset_graph(pkg, info("dcatapde"))
    ds = URIRef(f"{BASE}/dataset/witness-register")
    assert str(g.value(ds, DCATDE.contributorID)).endswith("demoCity")
    assert str(g.value(ds, DCATDE.legalBasis)) == "Section 3 Transparency Act"
    g2 = dataset_graph(OPEN, info("dcatapde"))
    lic = {str(o) for o in g2.objects(None, DCT.license)}
    assert lic == {"http://dcat-ap.de/def/licenses/cc-by/4.0"}


def _served() -> dict[str, Any]:
    """The open sample with a SensorThings distribution, a collection made from a CSV, and a related dataset."""
    pkg = copy.deepcopy(OPEN)
    pkg["extras"].append({"key": "related", "value": "tree-sensors"})
    pkg["resources"] = [
        {"id": "res-sta", "name": "SensorThings API: Datastreams", "format": "JSON", "mimetype": "application/json",
         "url": f"{BASE}/sta/v1.1/Datastreams?$filter=Thing/properties/source%20eq%20%27trees%27",
         "conforms_to": "http://www.opengis.net/spec/iot_sensing/1.1", "endpoint_url": "/sta/v1.1",
         "endpoint_description": "/sta/v1.1"},
        {"id": "res-csv", "name": "trees.csv", "format": "CSV", "url": f"{BASE}/ogcapi/collections/street-trees",
         "collection": "street-trees"},
    ]
    return pkg


def test_api_distributions_have_a_data_service(shapes: Graph) -> None:
    g = dataset_graph(_served(), info())
    ds = URIRef(f"{BASE}/dataset/street-trees")
    sta = URIRef(f"{ds}/resource/res-sta")
    svc = g.value(sta, DCAT.accessService)
    assert svc is not None and (svc, RDF.type, DCAT.DataService) in g
    assert g.value(svc, DCAT.endpointURL) == URIRef(f"{BASE}/sta/v1.1")
    assert g.value(svc, DCAT.endpointDescription) == URIRef(f"{BASE}/sta/v1.1")
    assert g.value(svc, DCT.conformsTo) == URIRef("http://www.opengis.net/spec/iot_sensing/1.1")
    assert g.value(svc, DCAT.servesDataset) == ds
    assert str(g.value(sta, DCAT.accessURL)).startswith(f"{BASE}/sta/v1.1/Datastreams?$filter=")
    assert g.value(sta, DCAT.downloadURL) is None  # an API, not a file
    # a collection's distribution: its data file to download, OGC API Features as its service
    csv = URIRef(f"{ds}/resource/res-csv")
    assert g.value(csv, DCAT.downloadURL) == URIRef(f"{BASE}/download/street-trees.csv")
    ogc = g.value(csv, DCAT.accessService)
    assert g.value(ogc, DCT.conformsTo) == URIRef("http://www.opengis.net/spec/ogcapi-features-1/1.0")
    assert g.value(ds, DCT.relation) == URIRef(f"{BASE}/dataset/tree-sensors")
    violations, _warnings = results(shapes, g)
    assert violations == []
