"""The privacy rules are said in plain language on the dataset page (English and German) and in DCAT (a
dct:rights statement beside dct:accessRights), and the DCAT-AP shapes still hold."""

from __future__ import annotations

from typing import Any

import pyshacl
from rdflib import Graph
from rdflib.namespace import RDF, SH

from tests.conformance.dcat.shapes_release import shapes as release_shapes

RULES = [{"kind": "aggregate", "bucket_minutes": 15, "h3_resolution": 8, "k": 10},
         {"kind": "redact", "fields": ["mac"]}]


def test_dataset_page_and_dcat_say_the_rules(client: Any, orgs: dict[str, Any]) -> None:
    assert client.put("/privacy/rules/open-data", json={"rules": RULES}, headers=orgs["h"]["steward-a"]).status_code == 200
    en = client.get("/datasets/open-data").text
    assert "Privacy rules" in en and "Only aggregates (sum) per 15 minutes and H3 cells of resolution 8" in en
    assert "cells below 10 are withheld" in en and "The fields mac are removed" in en
    de = client.get("/datasets/open-data?lang=de").text
    assert "Datenschutzregeln" in de and "Nur Aggregate (Summe) je 15 Minuten" in de
    r = client.get("/dataset/open-data.ttl")
    assert r.status_code == 200 and "Privacy rules: Only aggregates" in r.text and "Datenschutzregeln:" in r.text
    g = Graph().parse(data=r.text, format="turtle")
    _ok, report, text = pyshacl.validate(g, shacl_graph=release_shapes("3.0.1"), allow_warnings=True)
    violations = [x for x in report.subjects(RDF.type, SH.ValidationResult) if report.value(x, SH.resultSeverity) == SH.Violation]
    assert not violations, text


def test_no_rules_no_statement(client: Any, orgs: dict[str, Any]) -> None:
    assert "Privacy rules" not in client.get("/datasets/open-data").text
    assert "Privacy rules" not in client.get("/dataset/open-data.ttl").text
