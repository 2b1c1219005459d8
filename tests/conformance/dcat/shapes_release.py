"""The DCAT-AP SHACL shapes of a release, for the tests.

``shapes/dcat-ap-SHACL.jsonld`` is the 3.0.0 release, taken unchanged from a PyPI package (see
``shapes/LICENSE.md``); no package registry reachable here ships the 3.0.1 files. Release 3.0.1 changed
the data model in exactly two places, both relaxations (its consolidated change log, "Data model
adaptations", issues 370 and 380), and fixed one datatype (issue 399):

* ``dct:rights`` on Catalogue and on Distribution: cardinality 0..1 became 0..n;
* ``dcat:spatialResolutionInMeters`` on Dataset: 0..1 became 0..n;
* ``dcat:byteSize`` on Distribution has range ``xsd:nonNegativeInteger`` (the 3.0.0 file here has it).

``shapes("3.0.1")`` applies exactly these changes to the 3.0.0 graph and fails when one of them does not
find the constraint it changes, so a different base file cannot pass silently. Anything valid against
3.0.0 is valid against 3.0.1; the tests validate against both.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import SH, XSD

from urbanos.catalog.dcat.vocab import DCAT, DCT

SHAPES = Path(__file__).parent / "shapes"
_BASE = "https://semiceu.github.io/DCAT-AP/releases/3.0.0/shacl/dcat-ap-SHACL.ttl#"
# (node shape, property path) whose sh:maxCount 1 release 3.0.1 removed
RELAXED_301 = [("dcat:CatalogShape", DCT.rights), ("dcat:DistributionShape", DCT.rights),
               ("dcat:DatasetShape", DCAT.spatialResolutionInMeters)]


def _relax(g: Graph, shape: str, path: URIRef) -> None:
    node = URIRef(_BASE + shape)
    removed = 0
    for prop in list(g.objects(node, SH.property)):
        if g.value(prop, SH.path) == path and g.value(prop, SH.maxCount) is not None:
            g.remove((prop, SH.maxCount, None))
            removed += 1
    assert removed == 1, f"3.0.1 change not applicable: {shape} {path} has {removed} maxCount constraints"


def shapes(release: str = "3.0.1", *, recommended: bool = True) -> Graph:
    """The official mandatory shapes of ``release`` ("3.0.0" or "3.0.1"), with the project's
    recommended-property warnings unless ``recommended`` is false."""
    g = Graph().parse(SHAPES / "dcat-ap-SHACL.jsonld", format="json-ld")
    if release == "3.0.1":
        for shape, path in RELAXED_301:
            _relax(g, shape, path)
        dist = URIRef(_BASE + "dcat:DistributionShape")
        assert any(g.value(p, SH.path) == DCAT.byteSize and g.value(p, SH.datatype) == XSD.nonNegativeInteger
                   for p in g.objects(dist, SH.property)), "3.0.1: dcat:byteSize must have range xsd:nonNegativeInteger"
    elif release != "3.0.0":
        raise ValueError(f"no shapes for DCAT-AP {release}")
    if recommended:
        g.parse(SHAPES / "recommended.ttl", format="turtle")
    return g
