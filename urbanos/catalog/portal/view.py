"""Turn CKAN-shaped package dicts and service answers into plain values for the portal templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import orjson

from urbanos.catalog.dcat.mapping import access_service, grounds_of
from urbanos.catalog.dcat.vocab import GROUNDS_LABELS, as_list, extra
from urbanos.catalog.model import THEMES
from urbanos.catalog.quality import DOWNLOAD_FORMATS, download_link

PREVIEW_FORMATS = {"CSV", "GEOJSON", "JSON"}
DOWNLOAD_LABELS = {"csv": "CSV", "geojson": "GeoJSON", "parquet": "Parquet", "xlsx": "XLSX"}
MAP_ITEMS = 1000  # features of a collection drawn on a dataset's preview map


def _frequency_label(code: Any) -> str:
    """EU frequency codes as words (MONTHLY → Monthly, UPDATE_CONT → Update cont)."""
    return str(code).replace("_", " ").capitalize() if code else ""


def _org(pkg: dict[str, Any]) -> dict[str, str]:
    org = pkg.get("organization")
    if isinstance(org, dict) and org.get("name"):
        return {"name": str(org["name"]), "title": str(org.get("title") or org["name"])}
    if pkg.get("owner_org"):
        return {"name": str(pkg["owner_org"]), "title": str(pkg["owner_org"])}
    return {}


def owner_name(pkg: dict[str, Any]) -> str | None:
    """The name of the organisation that owns a package (roles name organisations; ``owner_org`` is its UUID)."""
    return _org(pkg).get("name") or None


def _tags(pkg: dict[str, Any]) -> list[str]:
    return [str(t.get("display_name") or t.get("name")) if isinstance(t, dict) else str(t) for t in pkg.get("tags") or []]


def _formats(pkg: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for r in pkg.get("resources") or []:
        f = str(r.get("format") or "").upper()
        if f and f not in seen:
            seen.append(f)
    return seen


def summary(pkg: dict[str, Any]) -> dict[str, Any]:
    notes = str(pkg.get("notes") or "")
    return {
        "name": pkg.get("name"), "title": pkg.get("title") or pkg.get("name"),
        "notes": notes if len(notes) <= 240 else notes[:237].rstrip() + "…",
        "title_translated": pkg.get("title_translated") or {},
        "notes_translated": {k: v if len(v) <= 240 else v[:237].rstrip() + "…"
                             for k, v in (pkg.get("notes_translated") or {}).items() if isinstance(v, str)},
        "org": _org(pkg), "access_level": str(extra(pkg, "access_level", "open")),
        "formats": _formats(pkg), "modified": str(pkg.get("metadata_modified") or "")[:10],
        "tags": _tags(pkg)[:6],
    }


def grounds(pkg: dict[str, Any]) -> list[dict[str, str]]:
    return [{"code": g, "label": GROUNDS_LABELS.get(g) or g} for g in grounds_of(pkg)]


def _geometry(pkg: dict[str, Any]) -> Any:
    geom = extra(pkg, "spatial")
    if isinstance(geom, str):
        try:
            return orjson.loads(geom)
        except orjson.JSONDecodeError:
            return None
    return geom if isinstance(geom, dict) else None


def preview_path(name: str, collection: str) -> str:
    """The portal's own URL of a collection's first features (read with the portal's sign-in)."""
    return f"/datasets/{quote(name, safe='')}/preview/{quote(collection, safe='')}.geojson"


def downloads(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The data files of a distribution made into a feature collection, one per download format, its own format
    first (with the distribution's size, the one size known); none for other distributions."""
    if not r.get("collection"):
        return []
    own = download_link(r).rsplit(".", 1)[-1]
    exts = [own, *(e for e in DOWNLOAD_FORMATS if e != own)]
    c = quote(str(r["collection"]), safe="")
    return [{"ext": e, "format": DOWNLOAD_LABELS[e], "url": f"/download/{c}.{e}", "name": str(r["collection"]),
             "size": human_size(r.get("size")) if e == own and str(r.get("format") or "").lower() == e else ""}
            for e in exts]


def human_size(n: Any) -> str:
    """A byte count in words (1.8 kB, 2.4 MB); empty for an unknown size."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        return ""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return ""


def detail(pkg: dict[str, Any], base: str, signed_in: bool = False) -> dict[str, Any]:
    """The dataset page's content. ``signed_in``: the browser carries the portal's sign-in cookie, so the preview
    map of non-open data can fetch its features from the portal."""
    level = str(extra(pkg, "access_level", "open"))
    name = str(pkg.get("name"))
    resources = []
    for r in pkg.get("resources") or []:
        fmt = str(r.get("format") or "").upper()
        rid = str(r.get("id") or "")
        url = r.get("url") if level == "open" or r.get("url_type") == "upload" else None
        service = access_service(r)
        resources.append({
            "id": rid, "name": r.get("name") or rid, "description": r.get("description") or "", "format": fmt,
            "size": r.get("size"), "url": url, "api": f"/api/3/action/resource_show?id={quote(rid)}",
            "downloads": downloads(r) if level == "open" else [],
            "service": service if url and r.get("conforms_to") else None,
            # a collection's own URL is its metadata: its first rows come from the features capability instead
            "preview": fmt in PREVIEW_FORMATS and bool(r.get("url")) and not r.get("collection") and not service,
        })
    preview = next((r for r in resources if r["preview"] and r["url"]), None)
    # the features of the first collection made from a distribution, drawn on the preview map: open data from OGC
    # API Features (no sign-in needed), other data from the portal's preview route, which reads the sign-in cookie
    collection = next((str(r["collection"]) for r in pkg.get("resources") or [] if r.get("collection")), None)
    map_items = None
    if collection and level == "open":
        map_items = f"/ogcapi/collections/{quote(collection, safe='')}/items?limit={MAP_ITEMS}"
    elif collection and signed_in:
        map_items = preview_path(name, collection)
    return {
        "name": name, "title": pkg.get("title") or name, "notes": pkg.get("notes") or "", "org": _org(pkg),
        "title_translated": pkg.get("title_translated") or {}, "notes_translated": pkg.get("notes_translated") or {},
        "access_level": level, "grounds": grounds(pkg), "legal_basis": extra(pkg, "legal_basis"),
        "review_date": extra(pkg, "review_date"), "steward": extra(pkg, "steward"),
        "maintainer": pkg.get("maintainer"), "maintainer_email": pkg.get("maintainer_email"),
        "owner": extra(pkg, "owner") or pkg.get("author"),
        "license": pkg.get("license_title") or pkg.get("license_id"), "license_url": pkg.get("license_url"),
        "frequency": extra(pkg, "frequency"), "themes": as_list(extra(pkg, "theme") or extra(pkg, "themes")),
        "frequency_label": _frequency_label(extra(pkg, "frequency")),
        "theme_labels": [THEMES.get(t, t) for t in as_list(extra(pkg, "theme") or extra(pkg, "themes"))],
        "tags": _tags(pkg), "spatial_text": extra(pkg, "spatial_text"), "geometry": _geometry(pkg),
        "temporal_start": extra(pkg, "temporal_start"), "temporal_end": extra(pkg, "temporal_end"),
        "created": str(pkg.get("metadata_created") or "")[:19], "modified": str(pkg.get("metadata_modified") or "")[:19],
        "version": pkg.get("version"), "resources": resources, "preview": preview, "map_items": map_items,
        "has_download": any(r["url"] for r in resources),
        "api_url": f"/api/3/action/package_show?id={quote(name)}",
        "rdf": [(f, f"/dataset/{quote(name)}.{f}") for f in ("ttl", "jsonld", "rdf")],
    }


def facets(res: dict[str, Any], fields: tuple[str, ...], chosen: dict[str, list[str]],
           toggle: Callable[[str, str], str], t: Callable[..., str]) -> list[dict[str, Any]]:
    raw = res.get("search_facets") or {}
    out = []
    for field in fields:
        block = raw.get(field) or {}
        items = block.get("items") if isinstance(block, dict) else None
        if items is None:
            simple = (res.get("facets") or {}).get(field) or {}
            items = [{"name": k, "display_name": k, "count": v} for k, v in simple.items()]
        rows = []
        for it in sorted(items, key=lambda i: (-int(i.get("count") or 0), str(i.get("name")))):
            value = str(it.get("name"))
            label = str(it.get("display_name") or value)
            if field == "access_level":
                label = t(f"access_{value}")
            elif field == "frequency":
                label = t(f"freq_{value}", _frequency_label(value))
            elif field == "theme":
                label = t(f"theme_{value}", label)
            rows.append({"value": value, "label": label, "count": it.get("count"),
                         "active": value in chosen.get(field, []), "url": toggle(field, value)})
        if rows:
            out.append({"field": field, "title": t(f"facet_{field}"), "items": rows})
    return out


def _num(v: Any) -> Any:
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _decimal(t: Callable[..., str], value: Any, places: int | None = None) -> Any:
    """A number with the page language's decimal mark: with ``places`` decimals, else as short as it is
    (whole numbers stay numbers)."""
    if places is not None and isinstance(value, int | float):
        return f"{value:.{places}f}".replace(".", t("decimal_point"))
    value = _num(value)
    return str(value).replace(".", t("decimal_point")) if isinstance(value, float) else value


# indicators scored by the share of distributions that pass (see urbanos.catalog.quality)
DISTRIBUTION_INDICATORS = frozenset({"access_url", "download_url", "download_url_ok", "format", "media_type", "vocabulary",
                                     "non_proprietary", "machine_readable", "byte_size"})


def _share(c: dict[str, Any], points: Any) -> int | None:
    """The percentage of distributions passing a partly met indicator (None unless 0 < share < 1)."""
    if c.get("passed"):
        return None
    share = c.get("share")
    if isinstance(share, int | float) and 0 < share < 1:
        return round(100 * share)
    maximum = c.get("max")
    if share is None and isinstance(points, int | float) and isinstance(maximum, int | float) and 0 < points < maximum:
        return round(100 * points / maximum)
    return None


def _explanation(c: dict[str, Any], key: str, points: Any, pkg: dict[str, Any], t: Callable[..., str]) -> str:
    """Why an indicator passes or fails, in the page language, from its key and score: the same sentences
    ``quality.assess`` writes in English."""
    given = str(c.get("explanation") or "")
    if not t(f"mqa_label_{key}", ""):
        return given  # an indicator this portal has no words for
    resources = pkg.get("resources") or []
    if c.get("passed", bool(points)):
        return t(f"mqa_ok_{key}")
    if key in DISTRIBUTION_INDICATORS and not resources:
        return t(f"mqa_none_{key}", t("mqa_no_distributions"))
    if key == "dcat_ap":
        missing = [t(f"mqa_dcat_ap_{word}") for word, ok in (
            ("title", pkg.get("title")), ("description", pkg.get("notes")), ("distribution", resources)) if not ok]
        return t("mqa_no_dcat_ap", missing=", ".join(missing) or t("mqa_dcat_ap_access_url"))
    text = t(f"mqa_no_{key}")
    share = _share(c, points)
    return text if share is None else t("mqa_partial", text=text, share=t("percent", n=share))


def quality(q: Any, pkg: dict[str, Any], t: Callable[..., str]) -> dict[str, Any] | None:
    """The MQA answer as totals, band, one subtotal per dimension and one row per indicator, in the page
    language (``pkg`` is the dataset assessed: whether it has distributions, which DCAT-AP properties lack)."""
    if not isinstance(q, dict):
        return None
    dims = q.get("dimensions") or {}
    if isinstance(dims, list):
        dims = {str(d.get("name")): d for d in dims if isinstance(d, dict)}
    subtotals = [{"name": t(f"dim_{str(k).lower()}", str(k).capitalize()), "key": str(k).lower(),
                  "points": _decimal(t, v.get("points", 0)), "max": _num(v.get("max", 0))}
                 for k, v in dims.items() if isinstance(v, dict)]
    rows = []
    for c in q.get("indicators") or q.get("checks") or []:
        if not isinstance(c, dict):
            continue
        points = c.get("points", c.get("score", 0)) or 0
        dim = str(c.get("dimension") or "")
        key = str(c.get("indicator") or "")
        label = str(c.get("label") or c.get("name") or c.get("indicator") or "")
        rows.append({"dimension": t(f"dim_{dim.lower()}", dim.capitalize()), "key": dim.lower(),
                     "check": t(f"mqa_label_{key}", label) if key else label,
                     "points": _decimal(t, points), "max": _num(c.get("max", "")),
                     "explanation": _explanation(c, key, points, pkg, t) if key else str(c.get("explanation") or ""),
                     "ok": bool(c.get("passed", points > 0))})
    score = q.get("points", q.get("score", 0))
    return {"score": _decimal(t, score), "max": _num(q.get("max", 405)), "band": str(q.get("band") or ""),
            "dimensions": subtotals, "rows": rows}


def _freshness_text(f: dict[str, Any], state: str, t: Callable[..., str]) -> str:
    """Why a dataset is fresh, stale or neither, in the page language, with the frequency in words."""
    if "status" not in f:
        return str(f.get("explanation") or "")  # not the answer of quality.freshness: shown as given
    code = f.get("frequency")
    freq = t(f"freq_{code}", _frequency_label(code)) if code else ""
    age, allowed = f.get("age_days"), f.get("max_age_days")
    if not code:
        return t("fresh_no_frequency")
    if state == "not_applicable":
        return t("fresh_no_period", freq=freq)
    if age is None:
        return t("fresh_last_unknown")
    if state in ("fresh", "stale") and isinstance(age, int | float) and isinstance(allowed, int | float):
        return t("fresh_age", age=_decimal(t, age, 1), freq=freq, max=_decimal(t, allowed, 2))
    return str(f.get("explanation") or "")


def freshness(f: Any, t: Callable[..., str]) -> dict[str, Any] | None:
    if not isinstance(f, dict):
        return None
    state = f.get("state") or f.get("status")
    if state is None and "fresh" in f:
        state = "fresh" if f.get("fresh") else "stale"
    if state is None and "stale" in f:
        state = "stale" if f.get("stale") else "fresh"
    return {"state": str(state or "unknown"), "explanation": _freshness_text(f, str(state or "unknown"), t),
            "last": f.get("last_update") or f.get("last_modified") or f.get("modified"),
            "due": f.get("due") or f.get("next_due") or f.get("expected_by"), "frequency": f.get("frequency")}


def inventory_row(r: dict[str, Any]) -> dict[str, Any]:
    return {"name": r.get("name"), "title": r.get("title") or r.get("name"), "org": _org(r),
            "access_level": str(extra(r, "access_level", "open")), "grounds": grounds(r),
            "legal_basis": extra(r, "legal_basis"), "review_date": extra(r, "review_date"),
            "steward": extra(r, "steward"), "visible": bool(r.get("visible", extra(r, "access_level", "open") == "open"))}


__all__ = ["owner_name", "summary", "detail", "downloads", "human_size", "preview_path", "facets", "quality", "freshness", "inventory_row", "grounds"]
