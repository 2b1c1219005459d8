"""DCAT-AP export on the live app: paging, formats, profiles, SHACL and access enforcement per level."""

from __future__ import annotations

from typing import Any

import pyshacl
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from tests.conformance.dcat.dcat_samples import LEVELS, VISIBLE, seed
from tests.conformance.dcat.shapes_release import shapes as release_shapes
from urbanos.catalog.dcat.vocab import ACCESS_RIGHT, DCAT, DCATDE, DCT, HYDRA

PARSE = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}


@pytest.fixture
def seeded(client: Any, admin_headers: dict[str, str]) -> dict[str, dict[str, str]]:
    return seed(client, admin_headers)


def _names(g: Graph) -> set[str]:
    return {str(d).rsplit("/", 1)[-1] for d in g.subjects(RDF.type, DCAT.Dataset)}


def _get(client: Any, path: str, headers: dict[str, str] | None = None) -> Graph:
    r = client.get(path, headers=headers or {})
    assert r.status_code == 200, r.text
    fmt = path.split("?")[0].rsplit(".", 1)[-1]
    return Graph().parse(data=r.content, format=PARSE[fmt])


def test_catalog_shows_only_what_the_caller_may_see(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    for who in sorted(VISIBLE):
        for fmt in ("ttl", "jsonld", "rdf"):
            g = _get(client, f"/catalog.{fmt}", seeded[who])
            assert _names(g) == VISIBLE[who], (who, fmt)
        for name in LEVELS:
            r = client.get(f"/dataset/{name}.ttl", headers=seeded[who])
            assert r.status_code == (200 if name in VISIBLE[who] else 404), (who, name, r.text)


def test_non_open_is_non_public_without_download(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    g = _get(client, "/dataset/witness-register.jsonld", seeded["admin"])
    ds = next(g.subjects(RDF.type, DCAT.Dataset))
    assert g.value(ds, DCT.accessRights) == ACCESS_RIGHT.NON_PUBLIC
    assert list(g.objects(None, DCAT.downloadURL)) == []
    rights = {str(r) for r in g.objects(ds, DCT.rights)}
    assert any(r.endswith("INSPIRE_Directive_Article13_1b") for r in rights)
    assert "secret.csv" not in g.serialize(format="turtle")
    open_g = _get(client, "/dataset/street-trees.rdf")
    assert {str(u) for u in open_g.objects(None, DCAT.downloadURL)} == {"http://example.org/trees.csv"}


@pytest.mark.parametrize("release", ["3.0.1", "3.0.0"])
def test_export_conforms_to_dcat_ap_shapes(client: Any, seeded: dict[str, dict[str, str]], release: str) -> None:
    shapes = release_shapes(release)
    for fmt in ("ttl", "jsonld", "rdf"):
        g = _get(client, f"/catalog.{fmt}", seeded["admin"])
        _conforms, report, text = pyshacl.validate(g, shacl_graph=shapes, allow_warnings=True)
        violations = [r for r in report.subjects(RDF.type, SH.ValidationResult)
                      if report.value(r, SH.resultSeverity) == SH.Violation]
        assert not violations, text
    # recommended properties the seeded datasets lack are reported as warnings, not violations
    assert "Severity: sh:Warning" in text and "temporal" in text


def test_hydra_paging(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    seen: set[str] = set()
    url = "/catalog.ttl?page_size=1"
    pages = 0
    while url:
        g = _get(client, url, seeded["admin"])
        pages += 1
        seen |= _names(g)
        view = next(g.subjects(RDF.type, HYDRA.PartialCollectionView))
        assert str(g.value(view, HYDRA.first)).endswith("page=1")
        assert str(g.value(view, HYDRA.last)).endswith("page=4")
        nxt = g.value(view, HYDRA["next"])
        url = str(nxt).split("://", 1)[1].split("/", 1)[1] if nxt is not None else ""
        url = "/" + url if url else ""
    assert pages == 4 and seen == set(LEVELS)
    cat = next(g.subjects(RDF.type, DCAT.Catalog))
    assert int(g.value(cat, HYDRA.totalItems)) == 4


def test_profile_dcatapde(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    g = _get(client, "/dataset/patrol-plans.ttl?profile=dcatapde", seeded["admin"])
    ds = URIRef(next(iter(g.subjects(RDF.type, DCAT.Dataset))))
    assert str(g.value(ds, DCATDE.legalBasis)) == "Police Act section 12"
    g2 = _get(client, "/dataset/street-trees.ttl?profile=dcatapde")
    assert {str(o) for o in g2.objects(None, DCT.license)} == {"http://dcat-ap.de/def/licenses/cc-by/4.0"}


BAD = [("/catalog.ttl?page=0", 400), ("/catalog.ttl?page=abc", 400), ("/catalog.ttl?page=99", 404),
       ("/catalog.ttl?page_size=0", 400), ("/catalog.ttl?page_size=5000", 400), ("/catalog.ttl?profile=nope", 400),
       ("/catalog.xyz", 404), ("/dataset/nope.ttl", 404), ("/dataset/street-trees.xyz", 404)]


def test_bad_input(client: Any, seeded: dict[str, dict[str, str]]) -> None:
    for path, status in BAD:
        r = client.get(path)
        assert r.status_code == status, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), path
