"""Metadata quality (EU Metadata Quality Assessment, MQA) and freshness.

The MQA of data.europa.eu scores five dimensions, 405 points in all:

* Findability (100): keywords 30, themes 30, spatial coverage 20, temporal coverage 20.
* Accessibility (100): access URL reachable 50, download URL given 20, download URL reachable 30.
* Interoperability (110): format 20, media type 10, format/media type from a vocabulary 10,
  non-proprietary format 20, machine-readable format 20, DCAT-AP compliance 30.
* Reusability (75): licence 20, licence from a vocabulary 10, access rights 10, access rights from a
  vocabulary 5, contact point 20, publisher 10.
* Contextuality (20): rights 5, byte size 5, date of issue 5, modification date 5.

Bands: Excellent 351-405, Good 221-350, Sufficient 121-220, Bad 0-120. Distribution-level indicators
score the share of distributions that pass. The access URL is checked locally for uploaded files (the file
exists); paths this platform serves itself (``/ogcapi/collections/…`` of an imported collection, say)
count as reachable; external URLs are not fetched, and count as reachable when they are well-formed
http(s) URLs (the explanation says so).

"Download URL reachable" reads what the portal's download button links to (:func:`download_link`) and checks that
it is data (:func:`is_data`: the media type and first bytes of the format, not a JSON metadata document): the data
file of a collection (``/download/{collection}.csv``, asked of the features capability), the first bytes of an
uploaded file, the answer of a SensorThings API distribution (asked of the sensing capability). External URLs are
not fetched (as above).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import orjson

from urbanos.catalog.model import FREQUENCIES, LICENSE_BY_ID, MACHINE_READABLE, MEDIA_TYPES, NON_PROPRIETARY
from urbanos.core import time as isotime
from urbanos.errors import UrbanosError
from urbanos.ports import FeaturesPort, SensingPort

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.platform import Platform

BANDS = ((351, "Excellent"), (221, "Good"), (121, "Sufficient"), (0, "Bad"))
_URL = re.compile(r"^https?://[^\s/]+\S*$")
_LOCAL = re.compile(r"^/[^/\s]\S*$")  # a path on this platform (resource URLs are stored without the base URL)


def band(points: float) -> str:
    for low, name in BANDS:
        if points >= low:
            return name
    return "Bad"


def _share(resources: list[dict[str, Any]], test: Callable[[dict[str, Any]], bool]) -> float:
    if not resources:
        return 0.0
    return sum(1 for r in resources if test(r)) / len(resources)


def _reachable(r: dict[str, Any], upload_dir: Path) -> bool:
    url = r.get("url") or ""
    if r.get("url_type") == "upload":
        m = re.search(r"/resource/([^/]+)/download/([^/]+)$", url)
        if m is None:
            return False
        return any(p.name == m.group(2) for p in upload_dir.glob(f"*/{m.group(2)}"))
    return bool(_URL.match(url) or _LOCAL.match(url))


class _Sheet:
    """The indicators scored so far."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, dim: str, key: str, label: str, maximum: int, share: float, why_ok: str, why_not: str) -> None:
        pts = round(maximum * share, 1)
        self.items.append({"dimension": dim, "indicator": key, "label": label, "max": maximum, "points": pts, "passed": share >= 1.0,
                           "share": round(share, 4),
                           "explanation": why_ok if share >= 1.0 else (why_not if share <= 0 else f"{why_not} ({share:.0%} of distributions pass)")})


def _fmt(r: dict[str, Any]) -> str:
    return str(r.get("format") or "").upper()


def assess(pkg: dict[str, Any], upload_dir: Path, fetched: dict[str, bool] | None = None) -> dict[str, Any]:
    """The MQA score of a package dict: every indicator, the points per dimension, the total and its band.
    ``fetched`` (resource id → its download is data, from :func:`fetch_downloads`) scores "download URL
    reachable"; without it a download URL counts when it is reachable as an access URL."""
    res = pkg.get("resources") or []
    sheet = _Sheet()
    _findability(sheet, pkg)
    _accessibility(sheet, res, upload_dir, fetched)
    _interoperability(sheet, pkg, res)
    _reusability(sheet, pkg)
    _contextuality(sheet, pkg, res)
    items = sheet.items
    dims: dict[str, dict[str, float]] = {}
    for it in items:
        d = dims.setdefault(it["dimension"], {"points": 0.0, "max": 0})
        d["points"] = round(d["points"] + it["points"], 1)
        d["max"] += it["max"]
    total = round(sum(it["points"] for it in items), 1)
    return {"dataset": pkg.get("name"), "points": total, "max": 405, "band": band(total), "dimensions": dims, "indicators": items}


# -- what the download buttons link to, and whether it is data ---------------------------------------------
DOWNLOAD_EXT = {"CSV": "csv", "GEOJSON": "geojson", "JSON": "geojson", "XLSX": "xlsx", "PARQUET": "parquet"}
DOWNLOAD_FORMATS = ("csv", "geojson", "parquet", "xlsx")
HEAD = 2048  # bytes read of a download


def download_link(r: dict[str, Any]) -> str:
    """What a distribution's download button links to: the data file of a collection made from it
    (``/download/{collection}.{ext}`` in its format, CSV when that is no download format), else its URL."""
    if r.get("collection"):
        ext = DOWNLOAD_EXT.get(_fmt(r).lstrip("."), "csv")
        return f"/download/{quote(str(r['collection']), safe='')}.{ext}"
    return str(r.get("url") or "")


def _json_head(head: bytes) -> bool:
    text = head.lstrip()
    if text[:1] not in (b"{", b"["):
        return False
    # an OGC API collection or landing document describes data, it is none
    return not (b'"itemType"' in text or (b'"links"' in text and b'"extent"' in text))


def is_data(ext: str, media_type: str, head: bytes) -> bool:
    """Are ``head`` (first bytes) with ``media_type`` data in format ``ext`` (csv, geojson, json, parquet, xlsx)?"""
    mt = media_type.split(";")[0].strip().lower()
    if ext == "csv":
        first = head.split(b"\n", 1)[0]
        return mt in ("text/csv", "text/plain") and head[:1] not in (b"{", b"[", b"<", b"") and (b"," in first or b";" in first)
    if ext == "geojson":
        return mt in ("application/geo+json", "application/json") and _json_head(head) and b'"Feature' in head
    if ext == "json":
        return mt.endswith("json") and _json_head(head)
    if ext == "parquet":
        return head[:4] == b"PAR1"
    if ext == "xlsx":
        return head[:4] == b"PK\x03\x04"
    return bool(head)


Fetch = Callable[[str], Awaitable[tuple[str, bytes] | None]]
"""Reads a path of this platform: ``(media type, first bytes)``, or None when it gives nothing."""


async def fetch_downloads(pkg: dict[str, Any], upload_dir: Path, fetch: Fetch) -> dict[str, bool]:
    """Resource id → whether what its download button links to is data in its format. Paths of this platform are
    read with ``fetch``, uploaded files from disk; external URLs are not fetched (a well-formed URL counts)."""
    out: dict[str, bool] = {}
    for r in pkg.get("resources") or []:
        link = download_link(r)
        path = urlsplit(link).path
        ext = path.rsplit(".", 1)[-1].lower() if r.get("collection") else DOWNLOAD_EXT.get(_fmt(r), _fmt(r).lower())
        if r.get("url_type") == "upload":
            out[str(r.get("id"))] = _upload_is_data(r, upload_dir, ext)
        elif r.get("collection") or _LOCAL.match(link):
            got = await fetch(link)
            out[str(r.get("id"))] = got is not None and is_data("json" if path.startswith("/sta/") else ext, *got)
        else:
            out[str(r.get("id"))] = bool(_URL.match(link))
    return out


def _upload_is_data(r: dict[str, Any], upload_dir: Path, ext: str) -> bool:
    m = re.search(r"/resource/([^/]+)/download/([^/]+)$", str(r.get("url") or ""))
    if m is None:
        return False
    for p in upload_dir.glob(f"*/{m.group(2)}"):
        with p.open("rb") as fh:
            head = fh.read(HEAD)
        kind = {"csv": "text/csv", "geojson": "application/geo+json", "json": "application/json"}.get(ext, "")
        return is_data(ext, kind, head) if ext in ("csv", "geojson", "json", "parquet", "xlsx") else bool(head)
    return False


def sta_query(link: str) -> tuple[str, str, dict[str, str]]:
    """``/sta/{version}/{path}?{query}`` as (version, path, query) for :meth:`urbanos.ports.SensingPort.read_path`."""
    parts = urlsplit(link)
    _, _, version, path = (parts.path.split("/", 3) + ["", ""])[:4]
    return version, path, dict(parse_qsl(parts.query))


def platform_fetch(platform: Platform, identity: Identity) -> Fetch:
    """A :data:`Fetch` of this platform's data for ``identity``: downloads through the features capability,
    SensorThings reads through the sensing capability (each as that caller reads it); anything else gives None."""
    async def fetch(link: str) -> tuple[str, bytes] | None:
        path = urlsplit(link).path
        features, sensing = platform.optional(FeaturesPort), platform.optional(SensingPort)
        try:
            if path.startswith("/download/") and features is not None and "." in path:
                name, _, ext = unquote(path[len("/download/"):]).rpartition(".")
                return await features.download_head(identity, name, ext, HEAD)
            if path.startswith("/sta/") and sensing is not None:
                version, sub, query = sta_query(link)
                body = await sensing.read_path(version, sub, {**query, "$top": "1"}, identity, "")
                return "application/json", orjson.dumps(body)[:HEAD]
        except UrbanosError:
            return None
        return None

    return fetch


def _findability(sheet: _Sheet, pkg: dict[str, Any]) -> None:
    add = sheet.add
    add("findability", "keywords", "Keyword usage (dcat:keyword)", 30, 1.0 if pkg.get("tags") else 0.0,
        "Keywords are given.", "No keywords: add tags so that people find the dataset.")
    add("findability", "themes", "Categories (dcat:theme)", 30, 1.0 if pkg.get("theme") else 0.0,
        "A theme is given.", "No theme: pick an EU data theme or a city domain.")
    add("findability", "spatial", "Geo search (dct:spatial)", 20, 1.0 if (pkg.get("spatial") or pkg.get("spatial_text")) else 0.0,
        "Spatial coverage is given.", "No spatial coverage: add a geometry or place names.")
    add("findability", "temporal", "Time-based search (dct:temporal)", 20, 1.0 if (pkg.get("temporal_start") or pkg.get("temporal_end")) else 0.0,
        "Temporal coverage is given.", "No temporal coverage: add a start and/or end date.")


def _accessibility(sheet: _Sheet, res: list[dict[str, Any]], upload_dir: Path,
                   fetched: dict[str, bool] | None = None) -> None:
    add = sheet.add
    add("accessibility", "access_url", "AccessURL accessibility", 50, _share(res, lambda r: _reachable(r, upload_dir)),
        "Every distribution has a reachable access URL (uploaded files checked on disk, paths served here accepted; external URLs checked for form, not fetched).",
        "Some distributions have no reachable access URL" if res else "No distributions: add a resource.")
    add("accessibility", "download_url", "DownloadURL existence", 20,
        _share(res, lambda r: r.get("url_type") == "upload" or bool(r.get("url"))),
        "Every distribution has a download URL.", "Distributions without a download URL" if res else "No distributions.")
    if fetched is None:
        add("accessibility", "download_url_ok", "DownloadURL accessibility", 30,
            _share(res, lambda r: _reachable(r, upload_dir)),
            "Every download URL is reachable.", "Some download URLs are not reachable" if res else "No distributions.")
        return
    add("accessibility", "download_url_ok", "DownloadURL accessibility", 30,
        _share(res, lambda r: fetched.get(str(r.get("id")), False)),
        "Every download gives data in its format.",
        "Some downloads give no data in their format (a metadata document, an error or nothing)" if res
        else "No distributions.")


def _interoperability(sheet: _Sheet, pkg: dict[str, Any], res: list[dict[str, Any]]) -> None:
    add, has = sheet.add, bool
    add("interoperability", "format", "Format (dct:format)", 20, _share(res, lambda r: has(r.get("format"))),
        "Every distribution states its format.", "Distributions without a format" if res else "No distributions.")
    add("interoperability", "media_type", "Media type (dcat:mediaType)", 10, _share(res, lambda r: has(r.get("mimetype"))),
        "Every distribution states its media type.", "Distributions without a media type" if res else "No distributions.")
    add("interoperability", "vocabulary", "Format / media type from vocabulary", 10,
        _share(res, lambda r: _fmt(r) in MEDIA_TYPES or (r.get("mimetype") or "") in MEDIA_TYPES.values()),
        "Formats and media types come from the EU file-type and IANA vocabularies.",
        "Formats not in the controlled vocabularies" if res else "No distributions.")
    add("interoperability", "non_proprietary", "Non-proprietary format", 20, _share(res, lambda r: _fmt(r) in NON_PROPRIETARY),
        "Every distribution uses a non-proprietary format.", "Distributions in proprietary formats" if res else "No distributions.")
    add("interoperability", "machine_readable", "Machine-readable format", 20, _share(res, lambda r: _fmt(r) in MACHINE_READABLE),
        "Every distribution is machine readable.", "Distributions that are not machine readable" if res else "No distributions.")
    dcat_ok = has(pkg.get("title")) and has(pkg.get("notes")) and bool(res) and all(has(r.get("url")) for r in res)
    add("interoperability", "dcat_ap", "DCAT-AP compliance", 30, 1.0 if dcat_ok else 0.0,
        "The mandatory DCAT-AP properties (title, description, distribution with access URL) are present.",
        "Mandatory DCAT-AP properties are missing: " + (", ".join(
            x for x, ok in (("title", has(pkg.get("title"))), ("description", has(pkg.get("notes"))), ("distribution", bool(res))) if not ok)
            or "a distribution has no access URL."))


def _reusability(sheet: _Sheet, pkg: dict[str, Any]) -> None:
    add = sheet.add
    lic = pkg.get("license_id") or ""
    add("reusability", "license", "License information", 20, 1.0 if lic else 0.0, "A licence is given.", "No licence.")
    add("reusability", "license_vocabulary", "License vocabulary", 10, 1.0 if lic in LICENSE_BY_ID else 0.0,
        "The licence comes from the known licence list.", "The licence is not from the known licence list.")
    add("reusability", "access_rights", "Access restrictions (dct:accessRights)", 10, 1.0 if pkg.get("access_level") else 0.0,
        "The access level is stated.", "No access level.")
    add("reusability", "access_rights_vocabulary", "Access restrictions vocabulary", 5,
        1.0 if pkg.get("access_level") in ("open", "registered", "internal", "confidential") else 0.0,
        "The access level maps to the EU access-right vocabulary (PUBLIC, RESTRICTED, NON_PUBLIC).", "Unknown access level.")
    add("reusability", "contact_point", "Contact point (dcat:contactPoint)", 20,
        1.0 if (pkg.get("contact_email") or pkg.get("contact_name") or pkg.get("maintainer_email")) else 0.0,
        "A contact point is given.", "No contact point: add a contact name or email.")
    add("reusability", "publisher", "Publisher (dct:publisher)", 10, 1.0 if (pkg.get("publisher") or pkg.get("organization")) else 0.0,
        "A publisher is given.", "No publisher.")


def _contextuality(sheet: _Sheet, pkg: dict[str, Any], res: list[dict[str, Any]]) -> None:
    add = sheet.add
    add("contextuality", "rights", "Rights (dct:rights)", 5, 1.0 if (pkg.get("rights") or pkg.get("legal_basis")) else 0.0,
        "A rights statement is given.", "No rights statement.")
    add("contextuality", "byte_size", "File size (dcat:byteSize)", 5, _share(res, lambda r: r.get("size") not in (None, "")),
        "Every distribution states its size.", "Distributions without a size" if res else "No distributions.")
    add("contextuality", "issued", "Date of issue (dct:issued)", 5, 1.0 if (pkg.get("issued") or pkg.get("metadata_created")) else 0.0,
        "The date of issue is known.", "No date of issue.")
    add("contextuality", "modified", "Modification date (dct:modified)", 5, 1.0 if pkg.get("metadata_modified") else 0.0,
        "The modification date is known.", "No modification date.")


def _parse(ts: str | None) -> datetime | None:
    if not ts:
        return None
    try:
        return isotime.parse_instant(str(ts))
    except ValueError:
        try:
            return isotime.parse_instant(str(ts)[:10])
        except ValueError:
            return None


def freshness(pkg: dict[str, Any], now: datetime | None = None, tolerance: float = 1.25) -> dict[str, Any]:
    """``stale`` when the last update is older than the frequency allows (period x tolerance)."""
    now = now or datetime.now(UTC)
    stamps = [_parse(pkg.get("metadata_modified")), _parse(pkg.get("data_modified") or None)]
    stamps += [_parse(r.get("last_modified")) for r in pkg.get("resources") or []]
    last = max((s for s in stamps if s is not None), default=None)
    freq = pkg.get("frequency") or ""
    period = FREQUENCIES.get(freq)
    out: dict[str, Any] = {"dataset": pkg.get("name"), "frequency": freq or None,
                           "last_update": last.strftime("%Y-%m-%dT%H:%M:%SZ") if last else None,
                           "max_age_days": round(period * tolerance, 4) if period else None, "age_days": None}
    if last is not None:
        out["age_days"] = round((now - last).total_seconds() / 86400, 3)
    if not freq:
        out["status"], out["explanation"] = "unknown", "No update frequency is declared."
    elif period is None:
        out["status"], out["explanation"] = "not_applicable", f"Frequency {freq} has no fixed period."
    elif last is None:
        out["status"], out["explanation"] = "unknown", "The last update is not known."
    elif out["age_days"] > period * tolerance:
        out["status"] = "stale"
        out["explanation"] = f"Last updated {out['age_days']:.1f} days ago; {freq} allows {period * tolerance:.2f} days."
    else:
        out["status"] = "fresh"
        out["explanation"] = f"Last updated {out['age_days']:.1f} days ago; {freq} allows {period * tolerance:.2f} days."
    return out


__all__ = ["assess", "freshness", "band", "BANDS", "download_link", "is_data", "fetch_downloads", "sta_query",
           "DOWNLOAD_FORMATS", "Fetch", "platform_fetch"]
