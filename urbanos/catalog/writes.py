"""Catalogue writes: validation with CKAN field messages, packages, resources, uploads, organisations, groups.

Every function here runs inside ``db.write`` (one transaction): a validation error raises before anything is
changed, so bad input changes nothing. Field errors go in ``ValidationFailed.detail`` as
``{field: [message, ...]}`` (rendered as CKAN's 409 Validation Error).
"""

from __future__ import annotations

import re
import secrets
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from shapely.geometry import box, shape

from urbanos.catalog.model import (
    EU_THEME_URI,
    FACET_TABLE_FIELDS,
    FREQUENCIES,
    FREQUENCY_URI,
    GROUNDS,
    MEDIA_TYPES,
    THEMES,
)
from urbanos.catalog.search import ts_text
from urbanos.core import time as isotime
from urbanos.core.ids import is_ascii_digits, parse_id
from urbanos.core.numbers import parse_int
from urbanos.errors import BadRequest, NotFound, ValidationFailed
from urbanos.events import Event
from urbanos.governance import Identity
from urbanos.query import limits
from urbanos.storage import Connection
from urbanos.storage.spatial import to_wkb

NAME_RE = re.compile(r"^[a-z0-9_-]+$")
TAG_RE = re.compile(r"^[\w \-.]+$", re.UNICODE)
DOC_TEXT = ("notes", "url", "version", "author", "author_email", "maintainer", "maintainer_email", "license_id", "steward",
            "owner", "publisher", "contact_name", "contact_email", "legal_basis", "spatial_text", "conforms_to",
            "documentation", "rights", "data_modified")
DOC_DATES = ("review_date", "temporal_start", "temporal_end", "issued")
RESOURCE_FIELDS = ("name", "description", "url", "format", "mimetype", "size", "position", "collection", "datastore_active")
UPLOAD_SIGNATURES = {"ZIP": b"PK\x03\x04", "XLSX": b"PK\x03\x04", "ODS": b"PK\x03\x04", "PDF": b"%PDF",
                     "PARQUET": b"PAR1", "GPKG": b"SQLite format 3\x00", "XLS": b"\xd0\xcf\x11\xe0"}
TEXT_TYPES = {"CSV", "TSV", "JSON", "GEOJSON", "XML", "RDF", "TTL", "JSONLD", "GML", "KML", "TXT", "HTML"}
EXT_FORMATS = {"csv": "CSV", "tsv": "TSV", "json": "JSON", "geojson": "GEOJSON", "xml": "XML", "rdf": "RDF", "ttl": "TTL",
               "jsonld": "JSONLD", "gml": "GML", "kml": "KML", "txt": "TXT", "html": "HTML", "zip": "ZIP", "pdf": "PDF",
               "parquet": "PARQUET", "gpkg": "GPKG", "xlsx": "XLSX", "xls": "XLS", "ods": "ODS"}


def now() -> str:
    return ts_text(datetime.now(UTC))


class Errors(dict):  # type: ignore[type-arg]
    def add(self, field: str, msg: str) -> None:
        self.setdefault(field, []).append(msg)

    def raise_if(self) -> None:
        if self:
            summary = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in self.items())
            raise ValidationFailed(f"Validation error: {summary}", code="validation_error", detail=dict(self))


def invalid(field: str, msg: str) -> ValidationFailed:
    return ValidationFailed(f"Validation error: {field}: {msg}", code="validation_error", detail={field: [msg]})


def as_list(v: Any) -> list[str]:
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


def _date(errors: Errors, field: str, v: Any) -> str:
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
    from urbanos.catalog.service import GOVERNANCE_KEYS

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


def _geometry(errors: Errors, v: Any) -> dict[str, Any] | None:
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


def _org(c: Connection, key: Any) -> str | None:
    if key in (None, ""):
        return None
    r = c.fetchone("SELECT name FROM organizations WHERE name = ? OR CAST(id AS TEXT) = ?", (str(key), str(key)))
    return r[0] if r else None


def _resolve(c: Connection, key: Any) -> dict[str, Any] | None:
    k = str(key or "")
    rows = c.rows("SELECT id, name, owner_org, access_level, state FROM datasets WHERE name = ?", (k,))
    if not rows and is_ascii_digits(k) and (ds_id := parse_id(k)) is not None:  # "²" or "١٢" is no id
        rows = c.rows("SELECT id, name, owner_org, access_level, state FROM datasets WHERE id = ?", (ds_id,))
    return rows[0] if rows else None


def _authorize(c: Connection, gate: Any, identity: Identity, row: dict[str, Any], missing: Exception) -> None:
    """The caller may publish to dataset ``row`` (:meth:`Gate.authorize_write`: a caller that may neither publish to
    nor read it gets ``missing``, the answer for a dataset that does not exist)."""
    if not identity.is_anonymous and identity.has_role("publisher", row["owner_org"]):
        return  # allowed: no need to read the dataset's access and grants
    ds, grants = gate.dataset_access(c, int(row["id"]))
    gate.authorize_write(identity, ds, grants, missing)


def package_write(c: Connection, gate: Any, identity: Identity, data: Any, *, mode: str) -> int:
    if not isinstance(data, dict):
        raise invalid("__root__", "The dataset must be a JSON object")
    existing = None
    if mode == "update":
        existing = _resolve(c, data.get("id") or data.get("name"))
        if existing is None:
            raise NotFound("Dataset not found")
        _authorize(c, gate, identity, existing, NotFound("Dataset not found"))
    data, custom = merged_input(data)
    errors = Errors()
    name = data.get("name", existing["name"] if existing else None)
    check_name(errors, name)
    if not errors.get("name"):
        other = c.fetchone("SELECT id FROM datasets WHERE name = ?", (name,))
        if other and (existing is None or int(other[0]) != int(existing["id"])):
            errors.add("name", "That URL is already in use.")
    org_key = data.get("owner_org", existing["owner_org"] if existing else None)
    if mode == "create":
        gate.require(identity, "publisher", _org(c, org_key) or (str(org_key) if org_key else None))
    org = _org(c, org_key)
    if org_key in (None, ""):
        errors.add("owner_org", "An organization must be provided")
    elif org is None:
        errors.add("owner_org", "Organization does not exist")
    elif existing and org != existing["owner_org"]:
        gate.require(identity, "publisher", org)
    title = data.get("title") or ""
    if not isinstance(title, str) or len(title) > 1000:
        errors.add("title", "Must be a string of at most 1000 characters")
    access = data.get("access_level")
    if access in (None, ""):
        priv = data.get("private")
        access = "internal" if priv in (True, "true", "True", "on") else (existing["access_level"] if existing and priv is None else "open")
    if access not in ("open", "registered", "internal", "confidential"):
        errors.add("access_level", "Must be one of open, registered, internal, confidential")
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
        doc[k] = _date(errors, k, data.get(k))
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
    tags = as_list(data.get("tags"))
    for t in tags:
        if len(t) < 2:
            errors.add("tags", f'Tag "{t}" length is less than minimum 2')
        elif len(t) > 100:
            errors.add("tags", f'Tag "{t}" length is more than maximum 100')
        elif not TAG_RE.match(t):
            errors.add("tags", f'Tag "{t}" must be alphanumeric characters or symbols: -_.')
    doc["tags"] = sorted(set(tags))
    doc["spatial"] = _geometry(errors, data.get("spatial"))
    doc["extras"] = custom
    group_ids: list[int] | None = None
    if "groups" in data:
        group_ids = []
        for g in as_list(data.get("groups")):
            r = c.fetchone("SELECT id FROM catalog_groups WHERE name = ? OR CAST(id AS TEXT) = ?", (g, g))
            if r is None:
                errors.add("groups", f"Group {g!r} does not exist")
            else:
                group_ids.append(int(r[0]))
    resources = data.get("resources")
    if resources is not None and not isinstance(resources, list):
        errors.add("resources", "Must be a list of resources")
        resources = None
    res_errors = [_resource_errors(r) for r in resources or []]
    if any(res_errors):
        errors["resources"] = res_errors  # type: ignore[assignment]
    errors.raise_if()

    ts = now()
    if existing is None:
        ds_id = int(c.insert("datasets", {"name": name, "title": title, "owner_org": org, "access_level": access,
                                          "created_at": ts, "modified_at": ts, "state": "active"}))
        c.insert("catalog_meta", {"dataset_id": ds_id, "doc": c.dialect.json_param(doc), "indexed_at": ""}, returning="dataset_id")
        kind = "created"
    else:
        ds_id = int(existing["id"])
        state = data.get("state") if data.get("state") in ("active", "deleted") else "active"
        c.execute("UPDATE datasets SET name = ?, title = ?, owner_org = ?, access_level = ?, modified_at = ?, state = ? WHERE id = ?",
                  (name, title, org, access, ts, state, ds_id))
        _put_doc(c, ds_id, doc)
        kind = "updated"
    if resources is not None:
        _sync_resources(c, ds_id, resources, gate, identity)
    if group_ids is not None:
        c.execute("DELETE FROM catalog_group_members WHERE dataset_id = ?", (ds_id,))
        for gid in sorted(set(group_ids)):
            c.execute("INSERT INTO catalog_group_members (group_id, dataset_id) VALUES (?, ?)", (gid, ds_id))
    reindex(c, ds_id)
    c.emit(Event(kind, "Dataset", ds_id, topic="catalog", dataset_id=ds_id, data={"name": name, "access_level": access}))
    return ds_id


def _put_doc(c: Connection, ds_id: int, doc: dict[str, Any]) -> None:
    if c.fetchone("SELECT 1 FROM catalog_meta WHERE dataset_id = ?", (ds_id,)):
        c.execute("UPDATE catalog_meta SET doc = ? WHERE dataset_id = ?", (c.dialect.json_param(doc), ds_id))
    else:
        c.insert("catalog_meta", {"dataset_id": ds_id, "doc": c.dialect.json_param(doc), "indexed_at": ""}, returning="dataset_id")


def merge_patch(current: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """package_patch: the current package with the given keys replaced (resources and groups kept unless given)."""
    merged = {k: v for k, v in current.items() if k not in ("resources", "groups", "organization", "private")}
    merged.update(data)
    merged["id"] = current["id"]
    if "private" in data and "access_level" not in data:
        merged.pop("access_level", None)
    if "extras" in data:
        for e in data.get("extras") or []:
            if isinstance(e, dict) and e.get("key") in merged and e.get("key") not in data:
                merged.pop(e["key"], None)
    return merged


def _resource_errors(r: Any) -> dict[str, list[str]]:
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


def _resource_values(r: dict[str, Any]) -> dict[str, Any]:
    fmt = str(r.get("format") or "").strip().upper().lstrip(".")
    vals = {"name": str(r.get("name") or ""), "description": str(r.get("description") or ""), "url": str(r.get("url") or ""),
            "format": fmt, "mimetype": str(r.get("mimetype") or MEDIA_TYPES.get(fmt, "")),
            "size": parse_int(r["size"], lo=0) if r.get("size") not in (None, "") else None,
            "collection": str(r.get("collection") or ""),
            "datastore_active": 1 if r.get("datastore_active") in (True, 1, "true", "True") else 0}
    extras = {k: v for k, v in r.items() if k not in RESOURCE_FIELDS and k not in (
        "id", "package_id", "package_name", "url_type", "created", "last_modified", "state", "upload", "cache_url",
        "cache_last_updated", "resource_type", "hash", "mimetype_inner", "metadata_modified")
        and isinstance(v, (str, int, float, bool))}
    vals["extras"] = extras
    return vals


def _check_collection(c: Connection, gate: Any, identity: Identity, name: str, ds_id: int) -> None:
    """A resource may name (as its ``collection``) a collection that does not exist yet, one of its own dataset, or
    one of a dataset the caller may publish to: an upload to the resource replaces the collection it names."""
    if not name or not c.table_exists("feature_collections"):
        return
    row = c.fetchone("SELECT f.dataset_id, d.owner_org FROM feature_collections f LEFT JOIN datasets d ON d.id = f.dataset_id"
                     " WHERE f.name = ?", (name,))
    if row is None or (row[0] is not None and int(row[0]) == ds_id):
        return
    if not gate.can_write(identity, row[1] if row[0] is not None else None):
        raise invalid("collection", f"The name {name!r} is taken by a collection of another dataset: leave collection "
                      "empty (an upload then gets a collection of its own) or name a new one")


def _sync_resources(c: Connection, ds_id: int, resources: list[dict[str, Any]], gate: Any, identity: Identity) -> None:
    old = {r["id"]: r for r in c.rows("SELECT * FROM catalog_resources WHERE dataset_id = ?", (ds_id,))}
    keep: set[str] = set()
    ts = now()
    for pos, r in enumerate(resources):
        vals = _resource_values(r)
        rid = str(r.get("id") or "")
        prev = old.get(rid)
        if vals["collection"] != (prev["collection"] if prev is not None else ""):
            _check_collection(c, gate, identity, vals["collection"], ds_id)
        if prev is not None:
            keep.add(rid)
            if prev["url_type"] == "upload" and (not vals["url"] or vals["url"].endswith(prev["url"])):
                vals["url"] = prev["url"]
                vals["size"] = prev["size"]
            c.execute("UPDATE catalog_resources SET position = ?, name = ?, description = ?, url = ?, format = ?, mimetype = ?,"
                      " size = ?, collection = ?, datastore_active = ?, extras = ?, last_modified = ? WHERE id = ?",
                      (pos, vals["name"], vals["description"], vals["url"], vals["format"], vals["mimetype"], vals["size"],
                       vals["collection"], vals["datastore_active"], c.dialect.json_param(vals["extras"]), ts, rid))
        else:
            new_id = str(uuid.uuid4())
            c.insert("catalog_resources", {**vals, "extras": c.dialect.json_param(vals["extras"]), "id": new_id, "dataset_id": ds_id,
                                           "position": pos, "created": ts, "last_modified": ts}, returning="id")
    for rid in old:
        if rid not in keep:
            c.execute("DELETE FROM catalog_resources WHERE id = ?", (rid,))


def package_delete(c: Connection, gate: Any, identity: Identity, key: Any, *, purge: bool) -> list[str]:
    if purge:  # a platform-wide action: refused before the dataset is looked up, so it tells nothing about it
        gate.require(identity, "admin")
    row = _resolve(c, key)
    if row is None or (row["state"] == "deleted" and not purge):
        raise NotFound("Dataset not found")
    if not purge:
        _authorize(c, gate, identity, row, NotFound("Dataset not found"))
    ds_id = int(row["id"])
    if purge:
        paths = [r[0] for r in c.fetchall("SELECT upload_path FROM catalog_resources WHERE dataset_id = ? AND upload_path <> ''", (ds_id,))]
        _drop_index(c, ds_id)
        c.execute("DELETE FROM catalog_spatial WHERE id = ?", (ds_id,))
        c.execute("DELETE FROM datasets WHERE id = ?", (ds_id,))
        c.emit(Event("deleted", "Dataset", ds_id, topic="catalog", dataset_id=ds_id, data={"name": row["name"], "purged": True}))
        return paths
    c.execute("UPDATE datasets SET state = 'deleted', modified_at = ? WHERE id = ?", (now(), ds_id))
    reindex(c, ds_id)
    c.emit(Event("deleted", "Dataset", ds_id, topic="catalog", dataset_id=ds_id, data={"name": row["name"]}))
    return []


# -- uploads ------------------------------------------------------------------------------------------------
def stage_upload(settings: Any, upload_dir: Path, upload: tuple[str, bytes]) -> dict[str, Any]:
    filename, content = upload
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(filename or "upload")).name).strip("._") or "upload"
    limit = int(settings.get("catalog_upload_max_bytes") or 0)
    if limit and len(content) > limit:
        raise invalid("upload", f"File upload too large: {len(content)} bytes; the limit is {limit} bytes")
    ext = safe.rsplit(".", 1)[-1].lower() if "." in safe else ""
    allowed = [t.strip().lower() for t in str(settings.get("catalog_upload_types") or "").split(",") if t.strip()]
    if ext not in allowed:
        raise invalid("upload", f"Unsupported upload type {('.' + ext) if ext else '(no extension)'}: allowed are {', '.join(allowed)}")
    fmt = EXT_FORMATS.get(ext, ext.upper())
    head = content[:4096]
    sig = UPLOAD_SIGNATURES.get(fmt)
    if sig is not None and not head.startswith(sig):
        raise invalid("upload", f"The file content is not {fmt}")
    if fmt in TEXT_TYPES:
        if b"\x00" in head:
            raise invalid("upload", f"The file content is not {fmt} text")
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                try:
                    head.decode("latin-1")
                except UnicodeDecodeError:
                    raise invalid("upload", f"The file content is not {fmt} text") from None
    if head.startswith((b"MZ", b"\x7fELF", b"#!")):
        raise invalid("upload", "Executable files are not accepted")
    token = secrets.token_hex(12)
    target = upload_dir / token / safe
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return {"upload_path": f"{token}/{safe}", "filename": safe, "size": len(content), "format": fmt,
            "mimetype": MEDIA_TYPES.get(fmt, "application/octet-stream"), "path": str(target)}


def remove_upload(upload_dir: Path, rel: str) -> None:
    if not rel or ".." in rel:
        return
    target = (upload_dir / rel).parent
    if target.parent == upload_dir and target.is_dir():
        shutil.rmtree(target, ignore_errors=True)


def resource_write(c: Connection, gate: Any, identity: Identity, data: dict[str, Any], staged: dict[str, Any] | None,
                   mode: str, upload_dir: Path) -> tuple[str, str]:
    prev = None
    if mode == "create":
        row = _resolve(c, data.get("package_id"))
        if row is None or row["state"] == "deleted":
            if data.get("package_id") in (None, ""):
                raise invalid("package_id", "Missing value")
            raise NotFound("Dataset not found")
    else:
        found = c.rows("SELECT * FROM catalog_resources WHERE id = ?", (str(data.get("id") or ""),))
        if not found:
            if data.get("id") in (None, ""):
                raise invalid("id", "Missing value")
            raise NotFound("Resource was not found.")
        prev = found[0]
        row = _resolve(c, prev["dataset_id"])
        assert row is not None
    _authorize(c, gate, identity, row, NotFound("Dataset not found" if mode == "create" else "Resource was not found."))
    src = dict(data)
    if mode == "patch" and prev is not None:
        base = {k: prev[k] for k in RESOURCE_FIELDS}
        base.update(orjson.loads(prev["extras"]) if isinstance(prev["extras"], str) and prev["extras"] else (prev["extras"] or {}))
        base.update(src)
        src = base
    errs = _resource_errors(src)
    if errs:
        e = Errors(errs)
        e.raise_if()
    vals = _resource_values(src)
    if vals["collection"] != (prev["collection"] if prev is not None else ""):
        _check_collection(c, gate, identity, vals["collection"], int(row["id"]))
    ts = now()
    rid = prev["id"] if prev else str(uuid.uuid4())
    old_upload = ""
    keep_upload = prev is not None and prev["url_type"] == "upload" and not staged and (not vals["url"] or vals["url"].endswith(prev["url"]))
    if staged:
        vals["url"] = f"/dataset/{row['name']}/resource/{rid}/download/{staged['filename']}"
        vals["size"] = staged["size"]
        vals["format"] = vals["format"] or staged["format"]
        vals["mimetype"] = vals["mimetype"] if src.get("mimetype") else staged["mimetype"]
        url_type, upload_path = "upload", staged["upload_path"]
        old_upload = prev["upload_path"] if prev else ""
    elif keep_upload:
        assert prev is not None
        vals["url"], vals["size"] = prev["url"], prev["size"]
        url_type, upload_path = "upload", prev["upload_path"]
    else:
        if not vals["url"]:
            raise invalid("url", "Missing value: give a URL or upload a file")
        url_type, upload_path = "", ""
        old_upload = prev["upload_path"] if prev else ""
    extras = c.dialect.json_param(vals.pop("extras"))
    if prev is None:
        pos = int(c.fetchval("SELECT COALESCE(MAX(position) + 1, 0) FROM catalog_resources WHERE dataset_id = ?", (row["id"],)) or 0)
        c.insert("catalog_resources", {**vals, "extras": extras, "id": rid, "dataset_id": row["id"], "position": pos,
                                       "url_type": url_type, "upload_path": upload_path, "created": ts, "last_modified": ts},
                 returning="id")
    else:
        c.execute("UPDATE catalog_resources SET name = ?, description = ?, url = ?, format = ?, mimetype = ?, size = ?, collection = ?,"
                  " datastore_active = ?, extras = ?, url_type = ?, upload_path = ?, last_modified = ? WHERE id = ?",
                  (vals["name"], vals["description"], vals["url"], vals["format"], vals["mimetype"], vals["size"], vals["collection"],
                   vals["datastore_active"], extras, url_type, upload_path, ts, rid))
    c.execute("UPDATE datasets SET modified_at = ? WHERE id = ?", (ts, row["id"]))
    reindex(c, int(row["id"]))
    payload: dict[str, Any] = {"dataset": row["name"], "format": vals["format"], "resource": rid,
                               "publisher_orgs": identity.orgs_with("publisher")}  # an import checks what it replaces
    if staged:
        payload["path"] = staged["path"]
    c.emit(Event("created" if prev is None else "updated", "Resource", rid, topic="catalog", dataset_id=int(row["id"]), data=payload))
    return rid, old_upload


def resource_delete(c: Connection, gate: Any, identity: Identity, key: Any) -> str:
    found = c.rows("SELECT * FROM catalog_resources WHERE id = ?", (str(key or ""),))
    if not found:
        raise NotFound("Resource was not found.")
    row = _resolve(c, found[0]["dataset_id"])
    assert row is not None
    _authorize(c, gate, identity, row, NotFound("Resource was not found."))
    c.execute("DELETE FROM catalog_resources WHERE id = ?", (found[0]["id"],))
    c.execute("UPDATE datasets SET modified_at = ? WHERE id = ?", (now(), row["id"]))
    reindex(c, int(row["id"]))
    c.emit(Event("deleted", "Resource", found[0]["id"], topic="catalog", dataset_id=int(row["id"]), data={"dataset": row["name"]}))
    return str(found[0]["upload_path"] or "")


# -- organisations, groups, members -------------------------------------------------------------------------
def _simple_create(c: Connection, identity: Identity, data: Any, table: str, what: str) -> str:
    from urbanos.governance.gate import Gate

    Gate.require(identity, "admin")
    if not isinstance(data, dict):
        raise invalid("__root__", f"The {what} must be a JSON object")
    errors = Errors()
    name = data.get("name")
    check_name(errors, name)
    if not errors and c.fetchone(f"SELECT 1 FROM {table} WHERE name = ?", (name,)):
        errors.add("name", "Group name already exists in database")
    errors.raise_if()
    values = {"name": name, "title": str(data.get("title") or ""), "description": str(data.get("description") or ""),
              "created_at": now()}
    if table == "organizations":
        values["extras"] = c.dialect.json_param({"image_url": str(data.get("image_url") or "")})
    else:
        values["image_url"] = str(data.get("image_url") or "")
    new_id = c.insert(table, values)
    c.emit(Event("created", "Organization" if table == "organizations" else "Group", new_id, topic="catalog", data={"name": name}))
    return str(name)


def organization_create(c: Connection, identity: Identity, data: Any) -> str:
    return _simple_create(c, identity, data, "organizations", "organization")


def group_create(c: Connection, identity: Identity, data: Any) -> str:
    return _simple_create(c, identity, data, "catalog_groups", "group")


# -- index ----------------------------------------------------------------------------------------------------
def stale_ids(c: Connection) -> list[int]:
    return [int(r[0]) for r in c.fetchall(
        "SELECT d.id FROM datasets d LEFT JOIN catalog_meta m ON m.dataset_id = d.id"
        " WHERE m.dataset_id IS NULL OR m.indexed_at <> d.modified_at LIMIT 5000")]


def _drop_index(c: Connection, ds_id: int) -> None:
    if c.dialect.name == "sqlite":
        c.execute("DELETE FROM catalog_fts WHERE rowid = ?", (ds_id,))
    else:
        c.execute("DELETE FROM catalog_search WHERE dataset_id = ?", (ds_id,))


def _apply_pending(c: Connection, d: dict[str, Any]) -> bool:
    """Metadata the demo (or an operator) prepared for a dataset another capability creates later."""
    row = c.fetchone("SELECT doc FROM catalog_pending WHERE name = ?", (d["name"],))
    if row is None:
        return False
    from urbanos.catalog.service import jload
    from urbanos.governance.gate import ADMIN, Gate

    c.execute("DELETE FROM catalog_pending WHERE name = ?", (d["name"],))
    raw = dict(jload(row[0]))
    raw["id"] = d["id"]
    raw.pop("name", None)
    if d["title"]:
        raw["title"] = d["title"]
    _put_doc(c, int(d["id"]), {})
    try:
        package_write(c, Gate, ADMIN, raw, mode="update")
    except ValidationFailed:
        return False
    return True


def reindex(c: Connection, ds_id: int) -> None:
    """Rebuild facets, full text and spatial rows of one dataset (and adopt datasets others created)."""
    from urbanos.catalog.service import jload

    rows = c.rows("SELECT id, name, title, owner_org, access_level, modified_at, state FROM datasets WHERE id = ?", (ds_id,))
    if not rows:
        return
    d = rows[0]
    meta = c.fetchone("SELECT doc FROM catalog_meta WHERE dataset_id = ?", (ds_id,))
    if meta is None:
        if _apply_pending(c, d):
            return
        doc = {}
        _put_doc(c, ds_id, doc)
    else:
        doc = jload(meta[0]) or {}
    resources = c.rows("SELECT name, description, format FROM catalog_resources WHERE dataset_id = ?", (ds_id,))
    groups = [r[0] for r in c.fetchall("SELECT g.name FROM catalog_group_members m JOIN catalog_groups g ON g.id = m.group_id"
                                       " WHERE m.dataset_id = ?", (ds_id,))]
    c.execute("DELETE FROM catalog_facets WHERE dataset_id = ?", (ds_id,))
    values: dict[str, set[str]] = {f: set() for f in FACET_TABLE_FIELDS}
    values["tags"].update(doc.get("tags") or [])
    values["theme"].update(doc.get("theme") or [])
    values["groups"].update(groups)
    values["res_format"].update(r["format"].upper() for r in resources if r["format"])
    values["grounds"].update(doc.get("grounds") or [])
    for f in ("license_id", "frequency"):
        if doc.get(f):
            values[f].add(str(doc[f]))
    c.executemany("INSERT INTO catalog_facets (dataset_id, field, value) VALUES (?, ?, ?)",
                  [(ds_id, f, v) for f, vs in values.items() for v in sorted(vs)])
    org_title = ""
    if d["owner_org"]:
        org_title = c.fetchval("SELECT title FROM organizations WHERE name = ?", (d["owner_org"],)) or ""
    name_words = re.sub(r"[-_]+", " ", d["name"])
    tags_text = " ".join([*(doc.get("tags") or []), *(THEMES.get(t, t) for t in doc.get("theme") or []), *groups])
    other = " ".join([d["owner_org"] or "", org_title, str(doc.get("spatial_text") or ""), str(doc.get("publisher") or ""),
                      str(doc.get("author") or ""), str(doc.get("maintainer") or ""),
                      *(f"{r['name']} {r['description']} {r['format']}" for r in resources)])
    _drop_index(c, ds_id)
    if c.dialect.name == "sqlite":
        c.execute("INSERT INTO catalog_fts (rowid, name, title, notes, tags, other) VALUES (?, ?, ?, ?, ?, ?)",
                  (ds_id, name_words, d["title"] or "", str(doc.get("notes") or ""), tags_text, other))
    else:
        c.execute("INSERT INTO catalog_search (dataset_id, tsv) VALUES (?, setweight(to_tsvector('simple', ?), 'A')"
                  " || setweight(to_tsvector('simple', ?), 'B') || setweight(to_tsvector('simple', ?), 'B')"
                  " || setweight(to_tsvector('simple', ?), 'C') || setweight(to_tsvector('simple', ?), 'D'))",
                  tuple([ds_id] + [re.sub(r"[-_/]+", " ", t) for t in (d["title"] or "", name_words, tags_text,
                                                                         str(doc.get("notes") or ""), other)]))
    c.execute("DELETE FROM catalog_spatial WHERE id = ?", (ds_id,))
    if doc.get("spatial"):
        try:
            geom = shape(doc["spatial"])
            c.execute(f"INSERT INTO catalog_spatial (id, geom) VALUES (?, {c.spatial.param()})", (ds_id, to_wkb(geom)))
        except Exception:  # noqa: BLE001 - validated on write; a bad stored value only loses the spatial index
            pass
    c.execute("UPDATE catalog_meta SET indexed_at = ? WHERE dataset_id = ?", (d["modified_at"], ds_id))


__all__ = ["package_write", "package_delete", "resource_write", "resource_delete", "stage_upload", "remove_upload",
           "organization_create", "group_create", "reindex", "stale_ids", "merge_patch", "parse_bbox"]
