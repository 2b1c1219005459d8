"""Validation of catalogue input with CKAN's field messages: packages, resources, names, dates, geometry.

Field errors are collected in :class:`Errors` and raised together as ``ValidationFailed`` whose ``detail`` is
``{field: [message, ...]}`` (rendered as CKAN's 409 Validation Error). Nothing here changes a row; the only reads
are the ones a message needs (is a name taken, does a group exist).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from shapely.geometry import box, shape

from urbanos.catalog.dcat.vocab import LANG_TAG_RE, lang_tag
from urbanos.catalog.model import EU_THEME_URI, FREQUENCIES, FREQUENCY_URI, GROUNDS, MEDIA_TYPES, THEMES
from urbanos.catalog.records import GOVERNANCE_KEYS, DatasetRow, group_row
from urbanos.core import time as isotime
from urbanos.core.numbers import parse_int
from urbanos.errors import BadRequest, ValidationFailed
from urbanos.query import limits
from urbanos.storage import Connection

NAME_RE = re.compile(r"^[a-z0-9_-]+$")
TAG_RE = re.compile(r"^[\w \-.]+$", re.UNICODE)
DOC_TEXT = ("notes", "url", "version", "author", "author_email", "maintainer", "maintainer_email", "license_id", "steward",
            "owner", "publisher", "contact_name", "contact_email", "legal_basis", "spatial_text", "conforms_to",
            "documentation", "rights", "data_modified")
DOC_DATES = ("review_date", "temporal_start", "temporal_end", "issued")
ACCESS_LEVELS = ("open", "registered", "internal", "confidential")
TITLE_MAX = 1000
TRANSLATED = {"title_translated": TITLE_MAX, "notes_translated": None}
"""The fields of a package in several languages (ckanext-fluent's ``{lang: text}`` objects) and the length limit
of their texts (the one of ``title``; ``notes`` has none)."""
MAX_TRANSLATIONS = 50
RESOURCE_FIELDS = ("name", "description", "url", "format", "mimetype", "size", "position", "collection", "datastore_active")
_NOT_RESOURCE_EXTRAS = ("id", "package_id", "package_name", "url_type", "created", "last_modified", "state", "upload",
                        "cache_url", "cache_last_updated", "resource_type", "hash", "mimetype_inner", "metadata_modified")


class Errors(dict[str, Any]):
    """Field messages collected while validating, raised at once by :meth:`raise_if`."""

    def add(self, field: str, msg: str) -> None:
        self.setdefault(field, []).append(msg)

    def raise_if(self) -> None:
        if self:
            summary = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in self.items())
            raise ValidationFailed(f"Validation error: {summary}", code="validation_error", detail=dict(self))


def invalid(field: str, msg: str) -> ValidationFailed:
    return ValidationFailed(f"Validation error: {field}: {msg}", code="validation_error", detail={field: [msg]})


def as_list(v: Any) -> list[str]:
    """A list of names from a list, a JSON list, a comma-separated text or ``[{"name": …}]``."""
    if v is None or v == "":
        return []
    if isinstance(v, str):
        s = v.strip()
        if s.startswith("["):
            try:
                v = orjson.loads(s)
            except orjson.JSONDecodeError:
                return [s]
        else:
            return [p.strip() for p in s.split(",") if p.strip()]
    if isinstance(v, (list, tuple)):
        out = []
        for x in v:
            if isinstance(x, dict):
                x = x.get("name") or x.get("id") or ""
            if str(x).strip():
                out.append(str(x).strip())
        return out
    return [str(v)]


def check_name(errors: Errors, name: Any, field: str = "name") -> None:
    if name in (None, ""):
        errors.add(field, "Missing value")
    elif not isinstance(name, str):
        errors.add(field, "Must be a string")
    elif len(name) < 2:
        errors.add(field, "Must be at least 2 characters long")
    elif len(name) > 100:
        errors.add(field, "Name must be a maximum of 100 characters long")
    elif not NAME_RE.match(name):
        errors.add(field, "Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_")


def read_date(errors: Errors, field: str, v: Any) -> str:
    """An ISO 8601 date or date-time as stored ("" for none); a field error otherwise."""
    if v in (None, ""):
        return ""
    try:
        s = str(v).strip()
        if len(s) == 10:
            return isotime.parse_date(s).isoformat()
        return isotime.parse_instant(s, naive_offset=None).isoformat()
    except (ValueError, OverflowError):
        errors.add(field, "Date format incorrect: use ISO 8601 (YYYY-MM-DD)")
        return ""


def merged_input(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Top-level keys win over ``extras``; unknown extras are kept as custom extras."""
    merged = dict(data)
    custom: dict[str, str] = {}
    extras = data.get("extras") or []
    if isinstance(extras, dict):
        extras = [{"key": k, "value": v} for k, v in extras.items()]
    if not isinstance(extras, list):
        raise invalid("extras", "Must be a list of {key, value} objects")
    for e in extras:
        if not isinstance(e, dict) or "key" not in e:
            raise invalid("extras", "Must be a list of {key, value} objects")
        k, v = str(e["key"]), e.get("value", "")
        if k in GOVERNANCE_KEYS:
            if merged.get(k) in (None, "", []):
                merged[k] = v
        elif e.get("deleted") not in ("on", True):
            custom[k] = "" if v is None else str(v)
    return merged, custom


def parse_bbox(v: Any) -> tuple[float, float, float, float]:
    try:
        parts = [float(x) for x in (v.split(",") if isinstance(v, str) else v)]
        if len(parts) != 4:
            raise ValueError
    except (TypeError, ValueError):
        raise BadRequest("ext_bbox must be minx,miny,maxx,maxy.", code="search_query_error") from None
    return parts[0], parts[1], parts[2], parts[3]


def read_geometry(errors: Errors, v: Any) -> dict[str, Any] | None:
    """A GeoJSON geometry in WGS84 (a JSON text or a dict), or None; a field error for anything else."""
    if v in (None, ""):
        return None
    try:
        if isinstance(v, str) and limits.json_problem(v, max_nesting=limits.GEOJSON_MAX_NESTING) is not None:
            raise ValueError("nested too deeply")  # shapely recurses over it, and the document is written back
        g = orjson.loads(v) if isinstance(v, str) else v
        geom = shape(g)
        if geom.is_empty or not box(-180, -90, 180, 90).covers(geom):
            raise ValueError
        return dict(g)
    except Exception:  # noqa: BLE001 - any parse failure is a field error
        errors.add("spatial", "Invalid GeoJSON geometry: give a GeoJSON geometry in WGS84 longitude/latitude")
        return None


# -- packages -------------------------------------------------------------------------------------------------
@dataclass
class PackageFields:
    """A package as it will be stored, after :func:`validate_package`."""

    name: str
    title: str
    org: str | None
    access: str
    doc: dict[str, Any]
    group_ids: list[int] | None  # None: leave the groups as they are
    resources: list[Any] | None  # None: leave the resources as they are
    state: str


def validate_package(c: Connection, data: dict[str, Any], custom: dict[str, str], existing: DatasetRow | None,
                     org: str | None) -> PackageFields:
    """Every field of a package (``data`` merged with its extras by :func:`merged_input`; ``org`` the organisation
    its ``owner_org`` names, when one does); all field errors are raised together."""
    errors = Errors()
    name = data.get("name", existing["name"] if existing else None)
    check_name(errors, name)
    if not errors.get("name"):
        other = c.fetchone("SELECT id FROM datasets WHERE name = ?", (name,))
        if other and (existing is None or int(other[0]) != int(existing["id"])):
            errors.add("name", "That URL is already in use.")
    org_key = data.get("owner_org", existing["owner_org"] if existing else None)
    if org_key in (None, ""):
        errors.add("owner_org", "An organization must be provided")
    elif org is None:
        errors.add("owner_org", "Organization does not exist")
    access = _access_level(errors, data, existing)
    doc = _document(errors, data, access)
    for field, limit in TRANSLATED.items():
        doc[field] = read_translated(errors, field, data.get(field), limit)
    title = data.get("title") or main_text(doc["title_translated"])
    if not isinstance(title, str) or len(title) > TITLE_MAX:
        errors.add("title", f"Must be a string of at most {TITLE_MAX} characters")
    if not doc.get("notes") and not errors.get("notes"):
        doc["notes"] = main_text(doc["notes_translated"])
    doc["extras"] = custom
    group_ids = _group_ids(errors, c, data)
    resources = data.get("resources")
    if resources is not None and not isinstance(resources, list):
        errors.add("resources", "Must be a list of resources")
        resources = None
    res_errors = [resource_errors(r) for r in resources or []]
    if any(res_errors):
        errors["resources"] = res_errors
    errors.raise_if()
    state = data.get("state") if data.get("state") in ("active", "deleted") else "active"
    return PackageFields(str(name), title, org, str(access), doc, group_ids, resources, str(state))


def read_translated(errors: Errors, field: str, v: Any, limit: int | None) -> dict[str, str]:
    """A text in several languages: an object ``{lang: text}`` (or its JSON text, as form posts send it) whose keys
    are language codes (``de``, ``deu``, ``de-CH``) and whose values are strings (``limit`` characters at most);
    texts that are empty are left out. A field error for anything else."""
    if v in (None, ""):
        return {}
    if isinstance(v, str):
        try:
            v = orjson.loads(v)
        except orjson.JSONDecodeError:
            v = None
    if not isinstance(v, dict):
        errors.add(field, 'Must be an object of language codes and texts, e.g. {"en": "Districts", "de": "Bezirke"}')
        return {}
    if len(v) > MAX_TRANSLATIONS:
        errors.add(field, f"At most {MAX_TRANSLATIONS} languages")
        return {}
    out: dict[str, str] = {}
    for lang, text in v.items():
        if not isinstance(lang, str) or not LANG_TAG_RE.match(lang):
            errors.add(field, f"Invalid language code {str(lang)[:20]!r}: use 2 or 3 lowercase letters, optionally "
                              "with a region (de, deu, de-CH)")
        elif not isinstance(text, str):
            errors.add(field, f"The text in {lang!r} must be a string")
        elif limit is not None and len(text) > limit:
            errors.add(field, f"The text in {lang!r} must be at most {limit} characters")
        elif text.strip():
            out[lang] = text
    return out


def clean_translated(v: Any, limit: int | None = None) -> dict[str, str]:
    """The valid part of a text in several languages from another catalogue (a harvest source): language codes
    written differently (``pt_BR``) made into this catalogue's form, entries that are no text left out."""
    if isinstance(v, str):
        try:
            v = orjson.loads(v)
        except orjson.JSONDecodeError:
            return {}
    if not isinstance(v, dict):
        return {}
    out: dict[str, str] = {}
    for key, text in v.items():
        lang = lang_tag(key)
        if lang and isinstance(text, str) and text.strip() and len(out) < MAX_TRANSLATIONS:
            out[lang] = text[:limit] if limit else text
    return out


def main_text(translated: dict[str, str], lang: str = "en") -> str:
    """The text of ``translated`` in the catalogue's main language ``lang``, else its first one ("" for none)."""
    return translated.get(lang) or next(iter(translated.values()), "")


def _access_level(errors: Errors, data: dict[str, Any], existing: DatasetRow | None) -> Any:
    access = data.get("access_level")
    if access in (None, ""):
        priv = data.get("private")
        access = "internal" if priv in (True, "true", "True", "on") else (existing["access_level"] if existing and priv is None else "open")
    if access not in ACCESS_LEVELS:
        errors.add("access_level", "Must be one of open, registered, internal, confidential")
    return access


def _document(errors: Errors, data: dict[str, Any], access: Any) -> dict[str, Any]:
    """The metadata document (``catalog_meta.doc``) of a package, without its custom extras."""
    doc: dict[str, Any] = {}
    for k in DOC_TEXT:
        v = data.get(k)
        if v is None:
            v = ""
        if not isinstance(v, (str, int, float)):
            errors.add(k, "Must be a string")
            continue
        doc[k] = str(v)
    for k in ("author_email", "maintainer_email", "contact_email"):
        if doc.get(k) and "@" not in doc[k]:
            errors.add(k, "Email address is not valid")
    for k in DOC_DATES:
        doc[k] = read_date(errors, k, data.get(k))
    doc["grounds"] = as_list(data.get("grounds"))
    for g in doc["grounds"]:
        if g not in GROUNDS:
            errors.add("grounds", f"Unknown ground {g!r}: use one of {', '.join(GROUNDS)}")
    if access != "open" and not doc["grounds"]:
        errors.add("grounds", "Missing value: datasets that are not open need grounds for non-disclosure")
    themes = []
    for t in as_list(data.get("theme")):
        t = t.removeprefix(EU_THEME_URI)
        if t not in THEMES:
            errors.add("theme", f"Unknown theme {t!r}: use an EU data theme code or a city domain ({', '.join(THEMES)})")
        themes.append(t)
    doc["theme"] = themes
    doc["language"] = as_list(data.get("language"))
    freq = str(data.get("frequency") or "").removeprefix(FREQUENCY_URI)
    if freq and freq not in FREQUENCIES:
        errors.add("frequency", "Unknown frequency: use a code of the EU frequency vocabulary (e.g. DAILY, MONTHLY, ANNUAL, IRREG)")
    doc["frequency"] = freq
    doc["tags"] = _tags(errors, as_list(data.get("tags")))
    doc["spatial"] = read_geometry(errors, data.get("spatial"))
    return doc


def _tags(errors: Errors, tags: list[str]) -> list[str]:
    for t in tags:
        if len(t) < 2:
            errors.add("tags", f'Tag "{t}" length is less than minimum 2')
        elif len(t) > 100:
            errors.add("tags", f'Tag "{t}" length is more than maximum 100')
        elif not TAG_RE.match(t):
            errors.add("tags", f'Tag "{t}" must be alphanumeric characters or symbols: -_.')
    return sorted(set(tags))


def _group_ids(errors: Errors, c: Connection, data: dict[str, Any]) -> list[int] | None:
    if "groups" not in data:
        return None
    group_ids: list[int] = []
    for g in as_list(data.get("groups")):
        r = group_row(c, g)
        if r is None:
            errors.add("groups", f"Group {g!r} does not exist")
        else:
            group_ids.append(int(r[0]))
    return group_ids


# -- resources ------------------------------------------------------------------------------------------------
def resource_errors(r: Any) -> dict[str, list[str]]:
    """The field errors of one resource (empty when it is valid)."""
    errors = Errors()
    if not isinstance(r, dict):
        return {"__root__": ["Must be an object"]}
    url = r.get("url")
    if url not in (None, "") and (not isinstance(url, str) or not (url.startswith("/") or re.match(r"^(https?|ftp)://\S+$", url))):
        errors.add("url", "Please provide a valid URL (http, https or ftp)")
    size = r.get("size")
    if size not in (None, "") and parse_int(size, lo=0) is None:
        errors.add("size", "Invalid integer")
    for k in ("name", "description", "format", "mimetype"):
        if r.get(k) is not None and not isinstance(r.get(k), str):
            errors.add(k, "Must be a string")
    return dict(errors)


def resource_values(r: dict[str, Any]) -> dict[str, Any]:
    """The ``catalog_resources`` columns of a valid resource, with its other plain keys as ``extras``."""
    fmt = str(r.get("format") or "").strip().upper().lstrip(".")
    vals: dict[str, Any] = {
        "name": str(r.get("name") or ""), "description": str(r.get("description") or ""), "url": str(r.get("url") or ""),
        "format": fmt, "mimetype": str(r.get("mimetype") or MEDIA_TYPES.get(fmt, "")),
        "size": parse_int(r["size"], lo=0) if r.get("size") not in (None, "") else None,
        "collection": str(r.get("collection") or ""),
        "datastore_active": 1 if r.get("datastore_active") in (True, 1, "true", "True") else 0}
    vals["extras"] = {k: v for k, v in r.items() if k not in RESOURCE_FIELDS and k not in _NOT_RESOURCE_EXTRAS
                      and isinstance(v, (str, int, float, bool))}
    return vals


__all__ = ["Errors", "invalid", "as_list", "check_name", "read_date", "merged_input", "parse_bbox", "read_geometry",
           "PackageFields", "validate_package", "read_translated", "clean_translated", "main_text", "TRANSLATED",
           "TITLE_MAX", "resource_errors", "resource_values", "NAME_RE", "RESOURCE_FIELDS", "ACCESS_LEVELS"]
