"""Namespaces and controlled vocabularies used by the DCAT-AP export (EU authority tables, INSPIRE)."""

from __future__ import annotations

import re
from typing import Any

import orjson
from rdflib import Namespace

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
URB = Namespace("https://urbanos.org/ns/catalog#")

EU = "http://publications.europa.eu/resource/authority/"
ACCESS_RIGHT = Namespace(EU + "access-right/")
FREQUENCY = Namespace(EU + "frequency/")
DATA_THEME = Namespace(EU + "data-theme/")
FILE_TYPE = Namespace(EU + "file-type/")
LICENSE = Namespace(EU + "licence/")
LANGUAGE = Namespace(EU + "language/")
PLANNED_AVAILABILITY = Namespace(EU + "planned-availability/")
INSPIRE_LIMITATION = "http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/"
DCATDE_LICENSE = "http://dcat-ap.de/def/licenses/"

#: A language code of a text in several languages (``title_translated``): 2 or 3 lowercase letters, optionally
#: with a region (``de``, ``deu``, ``de-CH``); the keys of ckanext-fluent's objects and the tags of RDF literals.
LANG_TAG_RE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


def lang_tag(tag: Any) -> str | None:
    """A language tag as a key of ``title_translated`` (``de-ch`` and ``de_CH`` become ``de-CH``), or None when it
    is not one (a script subtag, a private use tag)."""
    parts = re.split(r"[-_]", str(tag or "").strip())
    code = parts[0].lower() + (f"-{parts[1].upper()}" if len(parts) == 2 else "-" * (len(parts) > 2))
    return code if LANG_TAG_RE.match(code) else None


#: EU data themes (data-theme authority table codes).
EU_THEMES = ("AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "OP_DATPRO", "REGI",
             "SOCI", "TECH", "TRAN")

#: City domains of the study, mapped to the nearest EU data theme.
CITY_DOMAINS = {
    "economy": "ECON",
    "living": "SOCI",
    "governance": "GOVE",
    "environment": "ENVI",
    "mobility": "TRAN",
    "people": "SOCI",
    "security": "JUST",
}

#: Update frequencies (EU frequency authority table codes); lower-case aliases as CKAN users write them.
FREQUENCIES = {
    "CONT": "CONT", "continuous": "CONT", "UPDATE_CONT": "UPDATE_CONT",
    "DAILY": "DAILY", "daily": "DAILY", "WEEKLY": "WEEKLY", "weekly": "WEEKLY",
    "MONTHLY": "MONTHLY", "monthly": "MONTHLY", "QUARTERLY": "QUARTERLY", "quarterly": "QUARTERLY",
    "ANNUAL": "ANNUAL", "annual": "ANNUAL", "yearly": "ANNUAL", "BIENNIAL": "BIENNIAL",
    "HOURLY": "HOURLY", "hourly": "HOURLY", "IRREG": "IRREG", "irregular": "IRREG",
    "NEVER": "NEVER", "never": "NEVER", "UNKNOWN": "UNKNOWN", "unknown": "UNKNOWN",
    "OTHER": "OTHER", "AS_NEEDED": "AS_NEEDED", "NOT_PLANNED": "NOT_PLANNED",
    "1MIN": "1MIN", "5MIN": "5MIN", "10MIN": "10MIN", "15MIN": "15MIN", "30MIN": "30MIN",
}

#: Grounds for non-disclosure: INSPIRE Art. 13(1) (a)–(h) and local codes.
INSPIRE_GROUNDS = {
    **{f"inspire-13-1{c}": f"INSPIRE_Directive_Article13_1{c}" for c in "abcdefgh"},
    **{f"inspire-13-1-{c}": f"INSPIRE_Directive_Article13_1{c}" for c in "abcdefgh"},
}
GROUNDS_LABELS = {
    "inspire-13-1a": "Confidentiality of the proceedings of public authorities (INSPIRE Art. 13(1)(a))",
    "inspire-13-1b": "International relations, public security or national defence (INSPIRE Art. 13(1)(b))",
    "inspire-13-1c": "The course of justice (INSPIRE Art. 13(1)(c))",
    "inspire-13-1d": "Commercial or industrial confidentiality (INSPIRE Art. 13(1)(d))",
    "inspire-13-1e": "Intellectual property rights (INSPIRE Art. 13(1)(e))",
    "inspire-13-1f": "Confidentiality of personal data (INSPIRE Art. 13(1)(f))",
    "inspire-13-1g": "Interests or protection of a person who supplied the information (INSPIRE Art. 13(1)(g))",
    "inspire-13-1h": "Protection of the environment (INSPIRE Art. 13(1)(h))",
    **{f"inspire-13-1-{c}": "" for c in "abcdefgh"},
    "gdpr-personal-data": "Personal data (GDPR)",
    "security": "Security",
    "third-party-rights": "Third-party rights",
    "not-yet-processed": "Not yet processed",
}
for _c in "abcdefgh":
    GROUNDS_LABELS[f"inspire-13-1-{_c}"] = GROUNDS_LABELS[f"inspire-13-1{_c}"]

#: Common CKAN licence ids mapped to the EU licence authority table.
LICENSES = {
    "cc-by": "CC_BY_4_0", "cc-by-4.0": "CC_BY_4_0", "CC-BY-4.0": "CC_BY_4_0",
    "cc-by-sa": "CC_BYSA_4_0", "cc-by-sa-4.0": "CC_BYSA_4_0", "CC-BY-SA-4.0": "CC_BYSA_4_0",
    "cc-zero": "CC0", "cc0": "CC0", "CC0-1.0": "CC0", "odc-odbl": "ODC_BL", "ODbL-1.0": "ODC_BL",
    "odc-by": "ODC_BY", "odc-pddl": "ODC_PDDL", "dl-de-by-2.0": "DL_DE_BY_2_0", "dl-de-zero-2.0": "DL_DE_ZERO_2_0",
    "cc-nc": "CC_BYNC_4_0", "other-open": "OP_DATPRO", "notspecified": "OP_DATPRO", "other-closed": "OP_DATPRO",
}
#: The same licences as DCAT-AP.de licence URIs.
LICENSES_DE = {
    "CC_BY_4_0": "cc-by/4.0", "CC_BYSA_4_0": "cc-by-sa/4.0", "CC0": "cc-zero", "ODC_BL": "odbl",
    "ODC_BY": "odby", "ODC_PDDL": "odcpddl", "DL_DE_BY_2_0": "dl-by-de/2.0", "DL_DE_ZERO_2_0": "dl-zero-de/2.0",
    "CC_BYNC_4_0": "cc-by-nc/4.0", "OP_DATPRO": "other-open",
}

#: Formats (upper-cased CKAN format names) mapped to the EU file-type table and IANA media types.
FORMATS = {
    "CSV": ("CSV", "text/csv"), "JSON": ("JSON", "application/json"), "GEOJSON": ("GEOJSON", "application/geo+json"),
    "XML": ("XML", "application/xml"), "XLSX": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "XLS": ("XLS", "application/vnd.ms-excel"), "PDF": ("PDF", "application/pdf"), "ZIP": ("ZIP", "application/zip"),
    "SHP": ("SHP", "application/x-shapefile"), "GPKG": ("GPKG", "application/geopackage+sqlite3"),
    "PARQUET": ("PARQUET", "application/vnd.apache.parquet"), "HTML": ("HTML", "text/html"), "TXT": ("TXT", "text/plain"),
    "KML": ("KML", "application/vnd.google-earth.kml+xml"), "WMS": ("WMS_SRVC", "application/xml"),
    "WFS": ("WFS_SRVC", "application/xml"), "RDF": ("RDF", "application/rdf+xml"), "TTL": ("RDF_TURTLE", "text/turtle"),
    "JSONLD": ("JSON_LD", "application/ld+json"), "JSON-LD": ("JSON_LD", "application/ld+json"),
}


def extra(pkg: dict[str, Any], key: str, default: Any = None) -> Any:
    """A field from the top level of a CKAN package dict, or from its ``extras`` list."""
    value = pkg.get(key)
    if value not in (None, "", []):
        return value
    for e in pkg.get("extras") or []:
        if isinstance(e, dict) and e.get("key") == key and e.get("value") not in (None, ""):
            return e["value"]
    return default


def as_list(value: Any) -> list[str]:
    """A list field that may arrive as a list, a JSON list text or a comma-separated text."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.startswith("["):
        try:
            data = orjson.loads(text)
            if isinstance(data, list):
                return [str(v).strip() for v in data if str(v).strip()]
        except orjson.JSONDecodeError:
            pass
    return [p.strip() for p in text.split(",") if p.strip()]


__all__ = [n for n in dir() if n.isupper() or n in ("extra", "as_list", "lang_tag")]
