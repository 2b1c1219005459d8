"""CKAN-shaped package dicts → DCAT-AP 3 RDF graphs (rdflib), with Hydra paging and a DCAT-AP.de profile.

Pure functions: no database, no web. Non-open datasets are described with the EU access right
NON_PUBLIC, their grounds for non-disclosure and legal basis, and never with a download URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD
from shapely.geometry import shape

from urbanos.catalog.dcat.vocab import (
    ACCESS_RIGHT,
    ADMS,
    CITY_DOMAINS,
    DATA_THEME,
    DCAT,
    DCATAP,
    DCATDE,
    DCATDE_LICENSE,
    DCT,
    EU_THEMES,
    FILE_TYPE,
    FOAF,
    FORMATS,
    FREQUENCIES,
    FREQUENCY,
    GROUNDS_LABELS,
    GSP,
    HYDRA,
    INSPIRE_GROUNDS,
    INSPIRE_LIMITATION,
    LANG_TAG_RE,
    LANGUAGE,
    LICENSE,
    LICENSES,
    LICENSES_DE,
    LOCN,
    PLANNED_AVAILABILITY,
    SKOS,
    URB,
    VCARD,
    as_list,
    extra,
)
from urbanos.catalog.quality import download_link
from urbanos.core.time import is_date_only, parse_date, parse_instant

FORMATS_RDF = {"ttl": ("turtle", "text/turtle"), "jsonld": ("json-ld", "application/ld+json"),
               "rdf": ("xml", "application/rdf+xml")}
PROFILES = ("dcatap", "dcatapde")


@dataclass
class CatalogInfo:
    """What the export says about the catalogue itself."""

    base_url: str
    title: str
    description: str
    publisher_name: str
    language: str = "ENG"
    profile: str = "dcatap"
    contributor_id: str = ""
    geocoding_uri: str = ""
    attribution: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def new_graph() -> Graph:
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dct", DCT), ("foaf", FOAF), ("vcard", VCARD), ("skos", SKOS),
                       ("locn", LOCN), ("gsp", GSP), ("hydra", HYDRA), ("adms", ADMS), ("dcatap", DCATAP),
                       ("prov", PROV), ("urb", URB), ("dcatde", DCATDE)):
        g.bind(prefix, ns, override=True)
    return g


def _dt(value: Any) -> Literal | None:
    """CKAN timestamps ('2024-01-02T03:04:05.123456', with or without zone) as xsd:dateTime or xsd:date."""
    if not value:
        return None
    text = str(value).strip()
    try:
        if is_date_only(text):
            return Literal(parse_date(text).isoformat(), datatype=XSD.date)
        parsed = parse_instant(text, naive_offset=None)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return Literal(parsed.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)
    return Literal(parsed.isoformat(), datatype=XSD.dateTime)


def dataset_uri(base: str, name: str) -> URIRef:
    return URIRef(f"{base}/dataset/{quote(name)}")


def org_uri(base: str, name: str) -> URIRef:
    return URIRef(f"{base}/organizations/{quote(name)}")


def _concept(g: Graph, uri: URIRef, label: str | None = None, rdf_type: URIRef = SKOS.Concept) -> URIRef:
    g.add((uri, RDF.type, rdf_type))
    if rdf_type == SKOS.Concept and not label:
        label = str(uri).rstrip("/").rsplit("/", 1)[-1]
    if label:
        g.add((uri, SKOS.prefLabel, Literal(label, lang="en")))
    return uri


def is_open(pkg: dict[str, Any]) -> bool:
    return str(extra(pkg, "access_level", "open")).lower() == "open"


def add_dataset(g: Graph, pkg: dict[str, Any], info: CatalogInfo) -> URIRef:
    """Describe one package as a dcat:Dataset in ``g``; returns its node."""
    base = info.base_url
    name = str(pkg.get("name") or pkg.get("id"))
    ds = dataset_uri(base, name)
    page = URIRef(f"{base}/datasets/{quote(name)}")
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, DCT.title, Literal(pkg.get("title") or name)))
    g.add((ds, DCT.description, Literal(pkg.get("notes") or pkg.get("title") or name)))
    _translations(g, ds, pkg)
    g.add((ds, DCT.identifier, Literal(str(pkg.get("id") or ds))))  # the package's UUID, as CKAN's DCAT export
    for key, prop in (("metadata_created", DCT.issued), ("metadata_modified", DCT.modified)):
        lit = _dt(pkg.get(key))
        if lit is not None:
            g.add((ds, prop, lit))
    g.add((ds, DCAT.landingPage, _concept(g, page, None, FOAF.Document)))
    if pkg.get("version"):
        g.add((ds, DCAT.version, Literal(str(pkg["version"]))))
    for tag in pkg.get("tags") or []:
        label = tag.get("display_name") or tag.get("name") if isinstance(tag, dict) else str(tag)
        if label:
            g.add((ds, DCAT.keyword, Literal(label)))
    _themes(g, ds, pkg, base)
    _publisher(g, ds, pkg, info)
    _contact(g, ds, pkg)
    freq = FREQUENCIES.get(str(extra(pkg, "frequency", "") or extra(pkg, "update_frequency", "")).strip())
    if freq:
        g.add((ds, DCT.accrualPeriodicity, _concept(g, FREQUENCY[freq], None, DCT.Frequency)))
    _spatial(g, ds, pkg)
    _temporal(g, ds, pkg)
    _access(g, ds, pkg, info)
    _relations(g, ds, pkg, base)
    g.add((ds, DCT.language, _concept(g, LANGUAGE[info.language], None, DCT.LinguisticSystem)))
    for res in pkg.get("resources") or []:
        if isinstance(res, dict):
            g.add((ds, DCAT.distribution, _distribution(g, ds, page, res, pkg, info)))
    if info.profile == "dcatapde":
        _dcatapde_dataset(g, ds, pkg, info)
    return ds


def _translations(g: Graph, ds: URIRef, pkg: dict[str, Any]) -> None:
    """``title_translated``/``notes_translated`` as language-tagged titles and descriptions (``"Bezirke"@de``)."""
    for key, prop in (("title_translated", DCT.title), ("notes_translated", DCT.description)):
        texts = pkg.get(key)
        for lang, text in sorted(texts.items()) if isinstance(texts, dict) else []:
            if isinstance(lang, str) and LANG_TAG_RE.match(lang) and isinstance(text, str) and text.strip():
                g.add((ds, prop, Literal(text, lang=lang)))


def _themes(g: Graph, ds: URIRef, pkg: dict[str, Any], base: str) -> None:
    seen: set[str] = set()
    for theme in as_list(extra(pkg, "themes") or extra(pkg, "theme")):
        code = theme.rsplit("/", 1)[-1]
        eu = code.upper() if code.upper() in EU_THEMES else CITY_DOMAINS.get(code.lower())
        if eu and eu not in seen:
            seen.add(eu)
            g.add((ds, DCAT.theme, _concept(g, DATA_THEME[eu])))
        if code.lower() in CITY_DOMAINS:
            local = URIRef(f"{base}/themes/{code.lower()}")
            g.add((ds, DCAT.theme, _concept(g, local, code.lower())))
    for group in pkg.get("groups") or []:
        if isinstance(group, dict) and group.get("name"):
            uri = URIRef(f"{base}/groups/{quote(str(group['name']))}")
            g.add((ds, DCAT.theme, _concept(g, uri, group.get("title") or group["name"])))


def _publisher(g: Graph, ds: URIRef, pkg: dict[str, Any], info: CatalogInfo) -> None:
    org = pkg.get("organization")
    if isinstance(org, dict) and org.get("name"):
        agent = org_uri(info.base_url, str(org["name"]))
        title = org.get("title") or org["name"]
    elif pkg.get("owner_org"):
        agent = org_uri(info.base_url, str(pkg["owner_org"]))
        title = str(pkg["owner_org"])
    else:
        return
    g.add((agent, RDF.type, FOAF.Agent))
    g.add((agent, RDF.type, FOAF.Organization))
    g.add((agent, FOAF.name, Literal(title)))
    g.add((ds, DCT.publisher, agent))


def _contact(g: Graph, ds: URIRef, pkg: dict[str, Any]) -> None:
    name = pkg.get("maintainer") or pkg.get("author") or extra(pkg, "contact_name")
    email = pkg.get("maintainer_email") or pkg.get("author_email") or extra(pkg, "contact_email")
    if name or email:
        kind = BNode()
        g.add((kind, RDF.type, VCARD.Kind))
        g.add((kind, RDF.type, VCARD.Organization))
        g.add((kind, VCARD.fn, Literal(str(name or email))))
        if email:
            g.add((kind, VCARD.hasEmail, URIRef("mailto:" + str(email).removeprefix("mailto:"))))
        g.add((ds, DCAT.contactPoint, kind))
    steward = extra(pkg, "steward")
    if steward:
        attr = BNode()
        agent = BNode()
        g.add((attr, RDF.type, PROV.Attribution))
        g.add((agent, RDF.type, FOAF.Agent))
        g.add((agent, FOAF.name, Literal(str(steward))))
        g.add((attr, PROV.agent, agent))
        role = URIRef("http://inspire.ec.europa.eu/metadata-codelist/ResponsiblePartyRole/custodian")
        g.add((role, RDF.type, DCAT.Role))
        g.add((attr, DCAT.hadRole, role))
        g.add((ds, PROV.qualifiedAttribution, attr))
        g.add((ds, URB.steward, Literal(str(steward))))


def _spatial(g: Graph, ds: URIRef, pkg: dict[str, Any]) -> None:
    geom = extra(pkg, "spatial")
    places = as_list(extra(pkg, "spatial_text") or extra(pkg, "place_names"))
    if not geom and not places:
        return
    loc = BNode()
    g.add((loc, RDF.type, DCT.Location))
    if geom:
        text = geom if isinstance(geom, str) else orjson.dumps(geom).decode()
        geo = BNode()
        g.add((geo, RDF.type, LOCN.Geometry))
        g.add((geo, GSP.asGeoJSON, Literal(text, datatype=GSP.geoJSONLiteral)))
        g.add((loc, LOCN.geometry, geo))
        try:
            minx, miny, maxx, maxy = shape(orjson.loads(text)).bounds
            wkt = (f"POLYGON(({minx} {miny}, {maxx} {miny}, {maxx} {maxy}, {minx} {maxy}, {minx} {miny}))")
            g.add((loc, DCAT.bbox, Literal(wkt, datatype=GSP.wktLiteral)))
        except Exception:  # noqa: BLE001 - a malformed geometry only loses the bbox  # nosec B110
            pass
    for place in places:
        g.add((loc, SKOS.prefLabel, Literal(place)))
    g.add((ds, DCT.spatial, loc))


def _temporal(g: Graph, ds: URIRef, pkg: dict[str, Any]) -> None:
    start = _dt(extra(pkg, "temporal_start"))
    end = _dt(extra(pkg, "temporal_end"))
    if start is None and end is None:
        return
    period = BNode()
    g.add((period, RDF.type, DCT.PeriodOfTime))
    if start is not None:
        g.add((period, DCAT.startDate, start))
    if end is not None:
        g.add((period, DCAT.endDate, end))
    g.add((ds, DCT.temporal, period))


def grounds_of(pkg: dict[str, Any]) -> list[str]:
    return as_list(extra(pkg, "grounds") or extra(pkg, "non_disclosure_grounds"))


def _access(g: Graph, ds: URIRef, pkg: dict[str, Any], info: CatalogInfo) -> None:
    level = str(extra(pkg, "access_level", "open")).lower()
    right = ACCESS_RIGHT.PUBLIC if level == "open" else ACCESS_RIGHT.NON_PUBLIC
    g.add((right, RDF.type, DCT.RightsStatement))
    g.add((ds, DCT.accessRights, right))
    g.add((ds, URB.accessLevel, Literal(level)))
    if level == "open":
        return
    for code in grounds_of(pkg):
        uri = (URIRef(INSPIRE_LIMITATION + INSPIRE_GROUNDS[code]) if code in INSPIRE_GROUNDS
               else URIRef(f"{info.base_url}/grounds/{quote(code)}"))
        g.add((uri, RDF.type, DCT.RightsStatement))
        g.add((uri, RDFS.label, Literal(GROUNDS_LABELS.get(code, code), lang="en")))
        g.add((uri, SKOS.notation, Literal(code)))
        g.add((ds, DCT.rights, uri))
    basis = extra(pkg, "legal_basis")
    if basis:
        stmt = BNode()
        g.add((stmt, RDF.type, DCT.RightsStatement))
        g.add((stmt, RDFS.label, Literal(f"Legal basis: {basis}", lang="en")))
        g.add((ds, DCT.rights, stmt))
        g.add((ds, URB.legalBasis, Literal(str(basis))))
    review = _dt(extra(pkg, "review_date"))
    if review is not None:
        g.add((ds, URB.reviewDate, review))


def _license(pkg: dict[str, Any], res: dict[str, Any], info: CatalogInfo) -> URIRef | None:
    lid = str(res.get("license_id") or pkg.get("license_id") or "")
    if not lid:
        return None
    if lid.startswith("http"):
        return URIRef(lid)
    code = LICENSES.get(lid) or LICENSES.get(lid.lower())
    if code and info.profile == "dcatapde" and code in LICENSES_DE:
        return URIRef(DCATDE_LICENSE + LICENSES_DE[code])
    if code:
        return LICENSE[code]
    return URIRef(pkg["license_url"]) if pkg.get("license_url") else None


def _distribution(g: Graph, ds: URIRef, page: URIRef, res: dict[str, Any], pkg: dict[str, Any],
                  info: CatalogInfo) -> URIRef:
    rid = str(res.get("id") or res.get("name") or "resource")
    dist = URIRef(f"{ds}/resource/{quote(rid)}")
    g.add((dist, RDF.type, DCAT.Distribution))
    if res.get("name"):
        g.add((dist, DCT.title, Literal(str(res["name"]))))
    if res.get("description"):
        g.add((dist, DCT.description, Literal(str(res["description"]))))
    url = res.get("url")
    service = access_service(res, info.base_url)
    if is_open(pkg) and url:
        target = URIRef(str(url))
        g.add((target, RDF.type, RDFS.Resource))
        g.add((dist, DCAT.accessURL, target))
        download = data_download(res, info.base_url) if res.get("collection") else (None if service else target)
        if download is not None:
            g.add((download, RDF.type, RDFS.Resource))
            g.add((dist, DCAT.downloadURL, download))
        if service is not None:
            g.add((dist, DCAT.accessService, _data_service(g, ds, service)))
    else:
        g.add((page, RDF.type, RDFS.Resource))
        g.add((dist, DCAT.accessURL, page))
    fmt = str(res.get("format") or "").strip().upper().lstrip(".")
    if fmt in FORMATS:
        code, media = FORMATS[fmt]
        g.add((dist, DCT["format"], _concept(g, FILE_TYPE[code], None, DCT.MediaTypeOrExtent)))
        media_uri = URIRef("https://www.iana.org/assignments/media-types/" + media)
        g.add((dist, DCAT.mediaType, _concept(g, media_uri, None, DCT.MediaType)))
    elif res.get("mimetype"):
        media_uri = URIRef("https://www.iana.org/assignments/media-types/" + str(res["mimetype"]))
        g.add((dist, DCAT.mediaType, _concept(g, media_uri, None, DCT.MediaType)))
    lic = _license(pkg, res, info)
    if lic is not None:
        g.add((dist, DCT.license, _concept(g, lic, None, DCT.LicenseDocument)))
    size = res.get("size")
    if isinstance(size, int) and size >= 0:
        g.add((dist, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
    for key, prop in (("created", DCT.issued), ("last_modified", DCT.modified)):
        lit = _dt(res.get(key))
        if lit is not None:
            g.add((dist, prop, lit))
    g.add((dist, DCATAP.availability, _concept(g, PLANNED_AVAILABILITY.STABLE)))
    if info.profile == "dcatapde" and info.attribution:
        g.add((dist, DCATDE.licenseAttributionByText, Literal(info.attribution)))
    return dist


# the APIs a distribution may be read through: (title, specification, endpoint path, endpoint description path)
OGC_FEATURES = ("OGC API Features", "http://www.opengis.net/spec/ogcapi-features-1/1.0", "/ogcapi", "/ogcapi/api")


def _absolute(base: str, url: str) -> str:
    return base + url if url.startswith("/") else url


def data_download(res: dict[str, Any], base: str = "") -> URIRef:
    """The data file of a distribution made into a feature collection: ``/download/{collection}.{ext}`` in the
    distribution's format (CSV when it has no download format of its own), not the collection's metadata."""
    return URIRef(base + download_link(res))


def access_service(res: dict[str, Any], base: str = "") -> dict[str, str] | None:
    """The API a distribution is read through, as ``{title, conforms_to, endpoint_url, endpoint_description}``:
    the one the distribution names (``conforms_to`` and ``endpoint_url``, e.g. SensorThings), or OGC API Features
    for one made into a feature collection; None for a plain file."""
    if res.get("conforms_to") and res.get("endpoint_url"):
        endpoint = str(res["endpoint_url"])
        return {"title": str(res.get("service_title") or res.get("name") or endpoint),
                "conforms_to": str(res["conforms_to"]), "endpoint_url": _absolute(base, endpoint),
                "endpoint_description": _absolute(base, str(res.get("endpoint_description") or endpoint))}
    if res.get("collection"):
        title, spec, endpoint, described = OGC_FEATURES
        return {"title": title, "conforms_to": spec, "endpoint_url": base + endpoint,
                "endpoint_description": base + described}
    return None


def _data_service(g: Graph, ds: URIRef, svc: dict[str, str]) -> URIRef:
    node = URIRef(svc["endpoint_url"] + "#service")
    g.add((node, RDF.type, DCAT.DataService))
    g.add((node, DCT.title, Literal(svc["title"])))
    endpoint = URIRef(svc["endpoint_url"])
    g.add((endpoint, RDF.type, RDFS.Resource))
    g.add((node, DCAT.endpointURL, endpoint))
    described = URIRef(svc["endpoint_description"])
    g.add((described, RDF.type, RDFS.Resource))
    g.add((node, DCAT.endpointDescription, described))
    g.add((node, DCT.conformsTo, _concept(g, URIRef(svc["conforms_to"]), None, DCT.Standard)))
    g.add((node, DCAT.servesDataset, ds))
    return node


def _relations(g: Graph, ds: URIRef, pkg: dict[str, Any], base: str) -> None:
    """``dct:relation`` to the datasets named in the extra ``related`` (names, comma-separated or a list)."""
    for name in as_list(extra(pkg, "related")):
        if name != pkg.get("name"):
            other = dataset_uri(base, name)
            g.add((other, RDF.type, RDFS.Resource))
            g.add((ds, DCT.relation, other))


def _dcatapde_dataset(g: Graph, ds: URIRef, pkg: dict[str, Any], info: CatalogInfo) -> None:
    """DCAT-AP.de 2 additions: contributor id, political geocoding, legal basis, maintainer."""
    if info.contributor_id:
        g.add((ds, DCATDE.contributorID, URIRef(info.contributor_id)))
    if info.geocoding_uri:
        g.add((ds, DCATDE.politicalGeocodingURI, URIRef(info.geocoding_uri)))
    basis = extra(pkg, "legal_basis")
    if basis:
        g.add((ds, DCATDE.legalBasis, Literal(str(basis))))
    if pkg.get("maintainer"):
        agent = BNode()
        g.add((agent, RDF.type, FOAF.Agent))
        g.add((agent, FOAF.name, Literal(str(pkg["maintainer"]))))
        g.add((ds, DCATDE.maintainer, agent))


def catalog_node(g: Graph, info: CatalogInfo) -> URIRef:
    cat = URIRef(f"{info.base_url}/catalog")
    g.add((cat, RDF.type, DCAT.Catalog))
    g.add((cat, DCT.title, Literal(info.title)))
    g.add((cat, DCT.description, Literal(info.description)))
    pub = URIRef(f"{info.base_url}/#publisher")
    g.add((pub, RDF.type, FOAF.Agent))
    g.add((pub, FOAF.name, Literal(info.publisher_name)))
    g.add((cat, DCT.publisher, pub))
    home = URIRef(f"{info.base_url}/")
    g.add((cat, FOAF.homepage, _concept(g, home, None, FOAF.Document)))
    g.add((cat, DCT.language, _concept(g, LANGUAGE[info.language], None, DCT.LinguisticSystem)))
    taxonomy = URIRef("http://publications.europa.eu/resource/authority/data-theme")
    g.add((taxonomy, RDF.type, SKOS.ConceptScheme))
    g.add((taxonomy, DCT.title, Literal("Data theme", lang="en")))
    g.add((cat, DCAT.themeTaxonomy, taxonomy))
    return cat


def catalog_graph(packages: list[dict[str, Any]], info: CatalogInfo, *, fmt: str, page: int, page_size: int,
                  total: int, query: dict[str, str] | None = None) -> Graph:
    """The catalogue page ``page`` (1-based) with its datasets and a hydra:PartialCollectionView."""
    g = new_graph()
    cat = catalog_node(g, info)
    modified = [m for m in (_dt(p.get("metadata_modified")) for p in packages) if m is not None]
    if modified:
        g.add((cat, DCT.modified, max(modified, key=str)))
    for pkg in packages:
        g.add((cat, DCAT.dataset, add_dataset(g, pkg, info)))
    last = max(1, -(-total // page_size))
    params = {k: v for k, v in (query or {}).items() if k != "page"}

    def page_url(n: int) -> URIRef:
        return URIRef(f"{info.base_url}/catalog.{fmt}?" + urlencode({**params, "page": n}))

    view = page_url(page)
    g.add((view, RDF.type, HYDRA.PartialCollectionView))
    g.add((view, HYDRA.first, page_url(1)))
    g.add((view, HYDRA.last, page_url(last)))
    if page < last:
        g.add((view, HYDRA["next"], page_url(page + 1)))
    if page > 1:
        g.add((view, HYDRA.previous, page_url(min(page - 1, last))))
    g.add((cat, HYDRA.view, view))
    g.add((cat, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
    return g


def dataset_graph(pkg: dict[str, Any], info: CatalogInfo) -> Graph:
    g = new_graph()
    add_dataset(g, pkg, info)
    return g


def serialize(g: Graph, fmt: str) -> bytes:
    name, _media = FORMATS_RDF[fmt]
    out = g.serialize(format=name, encoding="utf-8")
    return out if isinstance(out, bytes) else str(out).encode()


__all__ = ["CatalogInfo", "FORMATS_RDF", "PROFILES", "add_dataset", "catalog_graph", "dataset_graph", "serialize",
           "new_graph", "dataset_uri", "grounds_of", "is_open", "access_service", "data_download"]
