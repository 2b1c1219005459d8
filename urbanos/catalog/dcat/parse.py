"""DCAT / DCAT-AP RDF → CKAN-shaped package dicts (for harvesting DCAT sources)."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from urbanos.catalog.dcat.vocab import (
    ACCESS_RIGHT,
    DCAT,
    DCT,
    FOAF,
    GSP,
    HYDRA,
    LICENSES,
    LOCN,
    SKOS,
    URB,
    VCARD,
    lang_tag,
)
from urbanos.core.ids import is_ascii_digits

NAME_RE = re.compile(r"^[a-z0-9_-]{2,100}$")
_LICENSE_BACK = {v: k for k, v in reversed(list(LICENSES.items()))}
_LICENSE_BACK.update({"CC_BY_4_0": "CC-BY-4.0", "CC_BYSA_4_0": "CC-BY-SA-4.0", "CC0": "CC0-1.0", "ODC_BL": "ODbL-1.0",
                      "DL_DE_BY_2_0": "dl-de-by-2.0", "DL_DE_ZERO_2_0": "dl-de-zero-2.0"})
_INSPIRE_BACK = {f"INSPIRE_Directive_Article13_1{c}": f"inspire-13-1-{c}" for c in "abcdefgh"}


def slug(text: str) -> str:
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z0-9_-]+", "-", norm).strip("-")[:100]
    return s if len(s) >= 2 else (s + "-ds")


def _last(node: Node | None) -> str:
    return str(node).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] if node is not None else ""


def _text(g: Graph, s: Node, p: URIRef) -> str | None:
    values = list(g.objects(s, p))
    if not values:
        return None
    for v in values:  # prefer English, then no language tag
        if isinstance(v, Literal) and v.language in ("en", None):
            return str(v)
    return str(values[0])


def _translated(g: Graph, s: Node, p: URIRef) -> dict[str, str]:
    """The language-tagged values of a property as ``{lang: text}`` (ckanext-fluent's ``title_translated``)."""
    out: dict[str, str] = {}
    for v in sorted(g.objects(s, p), key=str):
        lang = lang_tag(v.language) if isinstance(v, Literal) and v.language else None
        if lang and str(v).strip():
            out.setdefault(lang, str(v))
    return out


def _name_for(g: Graph, ds: Node) -> str:
    if isinstance(ds, URIRef):
        last = _last(ds)
        if NAME_RE.match(last):
            return last
    ident = _text(g, ds, DCT.identifier)
    if ident and NAME_RE.match(_last(Literal(ident))):
        return _last(Literal(ident))
    return slug(_text(g, ds, DCT.title) or str(ds))


class RemoteContext(ValueError):
    """A JSON-LD document names a context to fetch (a URL or file in ``@context``, or ``@import``)."""


def _local_contexts_only(node: Any) -> None:
    """Raise RemoteContext when any ``@context`` of the document (scoped contexts included) is not written inline:
    a string there, or an ``@import``, would make the JSON-LD processor read a URL or a local file."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            if "@import" in cur:
                raise RemoteContext(f"@import of {cur['@import']!r}")
            if "@context" in cur:
                ctx = cur["@context"]
                for item in ctx if isinstance(ctx, list) else [ctx]:
                    if not (item is None or isinstance(item, dict)):
                        raise RemoteContext(f"@context {item!r}")
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)


def parse_rdf(data: bytes, fmt: str) -> Graph:
    """Parse an RDF document from a harvest source. JSON-LD is read only with inline contexts (RemoteContext
    otherwise): the parser never fetches a context from the network or the file system."""
    g = Graph()
    if fmt != "json-ld":
        g.parse(data=data, format=fmt)
        return g
    doc = json.loads(data)
    _local_contexts_only(doc)
    if isinstance(doc, list):
        doc = {"@graph": doc}
    if not isinstance(doc, dict):
        raise ValueError("a JSON-LD document is an object or an array")
    g.parse(data=doc, format="json-ld")  # type: ignore[arg-type]  # the checked object itself, not the text again
    return g


def next_page(g: Graph) -> str | None:
    for view in g.subjects(RDF.type, HYDRA.PartialCollectionView):
        nxt = g.value(view, HYDRA["next"]) or g.value(view, HYDRA.nextPage)
        if nxt is not None:
            return str(nxt)
    for view in g.subjects(RDF.type, HYDRA.PagedCollection):
        nxt = g.value(view, HYDRA.nextPage)
        if nxt is not None:
            return str(nxt)
    return None


def _access(g: Graph, ds: Node) -> tuple[str, list[str]]:
    level = _text(g, ds, URB.accessLevel)
    right = g.value(ds, DCT.accessRights)
    if not level:
        level = "open" if right in (None, ACCESS_RIGHT.PUBLIC) else "confidential"
    grounds = []
    for r in g.objects(ds, DCT.rights):
        code = g.value(r, SKOS.notation)
        if code is not None:
            grounds.append(str(code))
        elif _last(r) in _INSPIRE_BACK:
            grounds.append(_INSPIRE_BACK[_last(r)])
    return level, grounds


def package_from(g: Graph, ds: Node) -> dict[str, Any]:
    """One dcat:Dataset as a CKAN-shaped package dict (``remote_id`` is the dataset's URI)."""
    title = _text(g, ds, DCT.title) or _name_for(g, ds)
    pkg: dict[str, Any] = {
        "name": _name_for(g, ds), "title": title, "notes": _text(g, ds, DCT.description) or "",
        "tags": [{"name": str(k)} for k in sorted({str(k) for k in g.objects(ds, DCAT.keyword)})],
        "remote_id": str(ds), "resources": [],
    }
    for key, prop in (("title_translated", DCT.title), ("notes_translated", DCT.description)):
        translated = _translated(g, ds, prop)
        if translated:
            pkg[key] = translated
    if _text(g, ds, DCAT.version):
        pkg["version"] = _text(g, ds, DCAT.version)
    pub = g.value(ds, DCT.publisher)
    if pub is not None:
        org_title = _text(g, pub, FOAF.name) or _last(pub)
        org_name = _last(pub) if isinstance(pub, URIRef) and NAME_RE.match(_last(pub)) else slug(org_title)
        pkg["organization"] = {"name": org_name, "title": org_title}
        pkg["owner_org"] = org_name
    cp = g.value(ds, DCAT.contactPoint)
    if cp is not None:
        pkg["maintainer"] = _text(g, cp, VCARD.fn)
        mail = g.value(cp, VCARD.hasEmail)
        if mail is not None:
            pkg["maintainer_email"] = str(mail).removeprefix("mailto:")
    freq = g.value(ds, DCT.accrualPeriodicity)
    if freq is not None:
        pkg["frequency"] = _last(freq)
    themes = [_last(t) for t in g.objects(ds, DCAT.theme) if "data-theme" in str(t)]
    if themes:
        pkg["theme"] = sorted(set(themes))
    level, grounds = _access(g, ds)
    pkg["access_level"] = level
    if grounds:
        pkg["grounds"] = sorted(grounds)
    for key, prop in (("legal_basis", URB.legalBasis), ("review_date", URB.reviewDate), ("steward", URB.steward)):
        if _text(g, ds, prop):
            pkg[key] = _text(g, ds, prop)
    for loc in g.objects(ds, DCT.spatial):
        geo = g.value(loc, LOCN.geometry)
        if geo is not None:
            value = g.value(geo, GSP.asGeoJSON) if not isinstance(geo, Literal) else geo
            if value is not None and str(value).lstrip().startswith("{"):
                pkg["spatial"] = str(value)
        places = [str(p) for p in g.objects(loc, SKOS.prefLabel)] + [str(p) for p in g.objects(loc, RDFS.label)]
        if places:
            pkg["spatial_text"] = ", ".join(places)
    for period in g.objects(ds, DCT.temporal):
        start = g.value(period, DCAT.startDate)
        end = g.value(period, DCAT.endDate)
        if start is not None:
            pkg["temporal_start"] = str(start)[:10]
        if end is not None:
            pkg["temporal_end"] = str(end)[:10]
    license_id = None
    for dist in sorted(g.objects(ds, DCAT.distribution), key=str):
        url = g.value(dist, DCAT.downloadURL) or g.value(dist, DCAT.accessURL)
        res: dict[str, Any] = {"name": _text(g, dist, DCT.title) or _last(dist),
                               "description": _text(g, dist, DCT.description) or "",
                               "url": str(url) if url is not None else ""}
        fmt = g.value(dist, DCT["format"])
        if fmt is not None:
            res["format"] = _last(fmt).replace("_", "-") if "file-type" not in str(fmt) else _last(fmt)
        size = g.value(dist, DCAT.byteSize)
        if size is not None and is_ascii_digits(str(size)):
            res["size"] = int(str(size))
        lic = g.value(dist, DCT.license)
        if lic is not None and license_id is None:
            license_id = _LICENSE_BACK.get(_last(lic), str(lic))
        pkg["resources"].append(res)
    if license_id:
        pkg["license_id"] = license_id
    return pkg


def packages_from(g: Graph) -> list[dict[str, Any]]:
    return [package_from(g, ds) for ds in sorted(set(g.subjects(RDF.type, DCAT.Dataset)), key=str)]


__all__ = ["packages_from", "package_from", "next_page", "slug", "parse_rdf", "RemoteContext"]
