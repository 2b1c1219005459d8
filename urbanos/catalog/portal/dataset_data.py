"""What a dataset page shows of the data itself, asked of the capabilities that hold it, each with the caller's
identity: the first rows of the collection a distribution became (:meth:`urbanos.ports.FeaturesPort.preview`), the
sensors of the dataset with their locations and a chart of a Datastream's recent values
(:meth:`urbanos.ports.SensingPort.dataset_sensors` and ``read_path``), and the related datasets the caller may see.

A page never fails because one of them cannot be read: each part is left out then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.catalog.dcat import source
from urbanos.catalog.dcat.vocab import as_list, extra
from urbanos.errors import UrbanosError
from urbanos.ports import FeaturesPort, SensingPort, SensorRef, TransparencyPort

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.platform import Platform

FIRST_ROWS = 20  # rows of the first-rows table
MAX_COLUMNS = 20  # columns of the first-rows table
MAX_SENSORS = 1000  # sensors drawn on the map
CHART_POINTS = 48  # recent values in the chart
CHART_W, CHART_H, CHART_PAD = 640, 200, 36


def first_rows(fc: dict[str, Any]) -> dict[str, Any] | None:
    """A FeatureCollection as a table: one column per property (in the order the features give them), one row per
    feature, cells as text."""
    feats = [f for f in fc.get("features") or [] if isinstance(f, dict)][:FIRST_ROWS]
    if not feats:
        return None
    cols: list[str] = []
    for f in feats:
        for k in (f.get("properties") or {}):
            if k not in cols and len(cols) < MAX_COLUMNS:
                cols.append(str(k))
    rows = [[_text((f.get("properties") or {}).get(k)) for k in cols] for f in feats]
    return {"columns": cols, "rows": rows, "matched": fc.get("numberMatched")}


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def sensor_points(sensors: list[SensorRef]) -> dict[str, Any] | None:
    """The sensors that have a location, as a GeoJSON FeatureCollection of points (name and Datastream ids)."""
    feats = [{"type": "Feature", "id": s.thing_id, "geometry": {"type": "Point", "coordinates": [s.longitude, s.latitude]},
              "properties": {"name": s.name, "datastreams": [d[0] for d in s.datastreams]}}
             for s in sensors if s.longitude is not None and s.latitude is not None]
    return {"type": "FeatureCollection", "features": feats} if feats else None


def chart(name: str, unit: str, observations: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Recent numeric values as an SVG polyline (oldest left), with the values for a table."""
    values: list[tuple[str, float]] = []
    for o in observations:
        r = o.get("result")
        if isinstance(r, int | float) and not isinstance(r, bool):
            t = str(o.get("phenomenonTime") or "")
            values.append((t.split("/")[-1][:16].replace("T", " "), float(r)))
    values.reverse()
    if len(values) < 2:
        return None
    lo, hi = min(v for _, v in values), max(v for _, v in values)
    span = (hi - lo) or 1.0
    step = (CHART_W - 2 * CHART_PAD) / (len(values) - 1)
    points = " ".join(f"{CHART_PAD + i * step:.1f},{CHART_H - CHART_PAD - (v - lo) / span * (CHART_H - 2 * CHART_PAD):.1f}"
                      for i, (_, v) in enumerate(values))
    return {"name": name, "unit": unit, "points": points, "width": CHART_W, "height": CHART_H, "pad": CHART_PAD,
            "min": _text(lo), "max": _text(hi), "first": values[0][0], "last": values[-1][0],
            "values": [(t, _text(v)) for t, v in values]}


async def _first_rows(platform: Platform, identity: Identity, pkg: dict[str, Any]) -> dict[str, Any] | None:
    features = platform.optional(FeaturesPort)
    collection = next((str(r["collection"]) for r in pkg.get("resources") or [] if r.get("collection")), None)
    if features is None or collection is None:
        return None
    try:
        return first_rows(await features.preview(identity, collection, FIRST_ROWS))
    except UrbanosError:
        return None


async def _sensing(platform: Platform, identity: Identity, name: str) -> dict[str, Any]:
    sensing = platform.optional(SensingPort)
    if sensing is None:
        return {}
    try:
        sensors = await sensing.dataset_sensors(identity, name, MAX_SENSORS)
        stream = next((d for s in sensors for d in s.datastreams), None)
        recent: list[dict[str, Any]] = []
        if stream is not None:
            body = await sensing.read_path("v1.1", f"Datastreams({stream[0]})/Observations", {
                "$top": str(CHART_POINTS), "$orderby": "phenomenonTime desc", "$select": "phenomenonTime,result"},
                identity, "")
            recent = [o for o in body.get("value") or [] if isinstance(o, dict)]
    except UrbanosError:
        return {}
    return {"sensors": sensor_points(sensors), "sensor_count": len(sensors),
            "chart": chart(stream[1], stream[2], recent) if stream is not None else None}


async def _related(platform: Platform, identity: Identity, pkg: dict[str, Any]) -> list[dict[str, Any]]:
    """The datasets named in the extra ``related`` that the caller may see (the others are not mentioned), with
    their titles in other languages."""
    out = []
    for name in as_list(extra(pkg, "related"))[:20]:
        try:
            other = await source.show(platform, identity, name)
        except UrbanosError:
            continue
        out.append({"name": str(other.get("name")), "title": str(other.get("title") or other.get("name")),
                    "title_translated": other.get("title_translated") or {}})
    return out


async def _algorithms(platform: Platform, name: str) -> list[dict[str, Any]]:
    """The algorithm register entries that use the dataset (the caller has read it), as ``{name, url}``."""
    register = platform.optional(TransparencyPort)
    if register is None:
        return []
    try:
        return [{"name": n, "url": url} for _, n, url in await register.algorithms_for_dataset(name)]
    except UrbanosError:
        return []


async def _privacy_summary(platform: Platform, name: str) -> dict[str, list[str]]:
    """The dataset's privacy rules in plain language, ``{"en": [...], "de": [...]}`` (the caller has read it)."""
    register = platform.optional(TransparencyPort)
    if register is None:
        return {}
    try:
        return {lang: await register.rules_summary(name, lang) for lang in ("en", "de")}
    except UrbanosError:
        return {}


async def data_views(platform: Platform, identity: Identity, pkg: dict[str, Any]) -> dict[str, Any]:
    """The template values of a dataset page's data parts: ``first_rows``, ``sensors``, ``sensor_count``, ``chart``,
    ``related``, ``algorithms`` and ``privacy_summary``."""
    name = str(pkg.get("name"))
    return {"first_rows": await _first_rows(platform, identity, pkg), "sensors": None, "sensor_count": 0, "chart": None,
            **await _sensing(platform, identity, name), "related": await _related(platform, identity, pkg),
            "algorithms": await _algorithms(platform, name), "privacy_summary": await _privacy_summary(platform, name)}


__all__ = ["data_views", "first_rows", "sensor_points", "chart"]
