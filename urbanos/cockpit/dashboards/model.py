"""What a dashboard is: its definition (a YAML file or a portal form, the same keys) checked into frozen objects.

A definition is a mapping::

    title: Parking              # title_de, description, description_de: optional
    organization: mobility      # the owning organisation (files: optional; portal: required for scoped publishers)
    timezone: Australia/Melbourne
    panels:
      - type: map               # map | timeseries | kpi | table
        title: Bay occupancy
        sta: "Datastreams?$filter=Thing/properties/source eq 'demo-parking'"   # or: features: <collection>

:func:`check` returns the dashboard and the problems found, each with the path of the key it is about, so a YAML
file's problems name their line. Nothing here reads the database: unknown Datastreams and queries the
SensorThings service refuses are found by :mod:`urbanos.cockpit.dashboards.checks`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
PANEL_TYPES = ("map", "timeseries", "kpi", "table")
AGGREGATES = ("sum", "mean", "min", "max", "count")
COMPARES = ("weekdays", "previous_year")
TOP_KEYS = frozenset({"title", "title_de", "description", "description_de", "organization", "timezone", "panels",
                      "slug"})
PANEL_KEYS = frozenset({"type", "title", "title_de", "description", "description_de", "sta", "features",
                        "datastreams", "unit", "thresholds", "where", "group_by", "aggregate", "compare", "averages",
                        "limits", "limit_key", "hours", "limit", "value_property", "label_property", "labels",
                        "labels_de"})
STA_SETS = ("Datastreams", "Things", "Observations", "MultiDatastreams")
MAX_PANELS = 24
MAX_TEXT = 500
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition: the key it is about (``path``), and why."""

    path: Path
    reason: str

    def where(self) -> str:
        return ".".join(str(p) for p in self.path) or "(top)"


@dataclass(frozen=True)
class Limit:
    value: float
    label: str
    label_de: str


@dataclass(frozen=True)
class Panel:
    index: int
    type: str
    title: str
    title_de: str = ""
    description: str = ""
    description_de: str = ""
    sta: str = ""
    features: str = ""
    datastreams: tuple[int, ...] = ()
    unit: str = ""
    thresholds: tuple[float, ...] = ()
    where: tuple[str, float] | None = None
    group_by: str = ""
    aggregate: str = "sum"
    compare: str = ""
    averages: bool = False
    limits: dict[str, Limit] = field(default_factory=dict)
    limit_key: str = ""
    hours: int = 24
    limit: int = 500
    value_property: str = ""
    label_property: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    labels_de: dict[str, str] = field(default_factory=dict)

    def label(self, v: float | None, lang: str) -> str | None:
        """The word for value ``v`` (``labels``: e.g. 0 free, 1 occupied), or None."""
        if v is None or not self.labels:
            return None
        key = f"{v:g}"
        return (self.labels_de.get(key) if lang == "de" else None) or self.labels.get(key)

    @property
    def sta_path(self) -> str:
        return urlsplit(self.sta).path.strip("/")

    @property
    def sta_query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.sta).query, keep_blank_values=True))

    @property
    def observations(self) -> bool:
        """True when the SensorThings source answers Observations (else Datastreams)."""
        return self.sta_path.rsplit("/", 1)[-1].split("(")[0] == "Observations"


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    title_de: str = ""
    description: str = ""
    description_de: str = ""
    organization: str | None = None
    timezone: str = "UTC"
    panels: tuple[Panel, ...] = ()
    origin: str = "file"  # file | portal
    source: str = ""  # the file's path, or the portal's table

    def text(self, key: str, lang: str) -> str:
        if lang == "de":
            return str(getattr(self, f"{key}_de", "") or getattr(self, key))
        return str(getattr(self, key))


def _text(v: Any, path: Path, out: list[Problem], required: bool = False) -> str:
    if v is None or v == "":
        if required:
            out.append(Problem(path, "is required"))
        return ""
    if not isinstance(v, str):
        out.append(Problem(path, "must be text"))
        return ""
    if len(v) > MAX_TEXT:
        out.append(Problem(path, f"is longer than {MAX_TEXT} characters"))
        return v[:MAX_TEXT]
    return v


def _number(v: Any, path: Path, out: list[Problem]) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        out.append(Problem(path, "must be a number"))
        return None
    return float(v)


def _int(v: Any, path: Path, out: list[Problem], lo: int, hi: int) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        out.append(Problem(path, f"must be a whole number from {lo} to {hi}"))
        return None
    return v


def check_sta(value: str) -> str | None:
    """Why ``value`` is no SensorThings path and query this platform reads for a dashboard, or None."""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.fragment:
        return "must be a path of the SensorThings API (like Datastreams?$filter=…), not a URL"
    path = parts.path.strip("/")
    for prefix in ("sta/v1.1/", "v1.1/"):
        path = path.removeprefix(prefix)
    head = path.split("/")[0].split("(")[0]
    if head not in STA_SETS:
        return f"must start with one of {', '.join(STA_SETS)}"
    last = path.rsplit("/", 1)[-1].split("(")[0]
    if last not in ("Datastreams", "Observations") or path.endswith(")"):
        return "must name a collection of Datastreams or of Observations"
    for key, _ in parse_qsl(parts.query, keep_blank_values=True):
        if not key.startswith("$"):
            return f"has the query option {key!r}: only SensorThings options ($filter, $top, $orderby …)"
    return None


def _panel_source(raw: dict[str, Any], path: Path, out: list[Problem]) -> dict[str, Any]:
    src: dict[str, Any] = {}
    given = [k for k in ("sta", "features", "datastreams") if raw.get(k) not in (None, "", [])]
    if len(given) != 1:
        out.append(Problem(path, "needs exactly one source: sta, features or datastreams"))
        return src
    if "sta" in given:
        sta = _text(raw["sta"], (*path, "sta"), out)
        if sta and (why := check_sta(sta)):
            out.append(Problem((*path, "sta"), why))
        src["sta"] = sta.strip("/").removeprefix("sta/v1.1/").removeprefix("v1.1/")
    elif "features" in given:
        name = _text(raw["features"], (*path, "features"), out)
        if name and not re.fullmatch(r"[A-Za-z0-9_.-]{1,128}", name):
            out.append(Problem((*path, "features"), "must be the name of an OGC API Features collection"))
        src["features"] = name
    else:
        ids = raw["datastreams"]
        if not isinstance(ids, list) or not ids or len(ids) > 200 or not all(
                isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
            out.append(Problem((*path, "datastreams"), "must be a list of 1 to 200 Datastream ids"))
        else:
            src["datastreams"] = tuple(ids)
            src["sta"] = "Datastreams?$filter=" + " or ".join(f"id eq {i}" for i in ids)
    return src


def _limits(raw: Any, path: Path, out: list[Problem]) -> dict[str, Limit]:
    if not isinstance(raw, dict):
        out.append(Problem(path, "must be a mapping of names to {value, label, label_de}"))
        return {}
    limits: dict[str, Limit] = {}
    for name, spec in raw.items():
        p = (*path, str(name))
        if isinstance(spec, int | float) and not isinstance(spec, bool):
            limits[str(name)] = Limit(float(spec), "", "")
        elif isinstance(spec, dict) and set(spec) <= {"value", "label", "label_de"}:
            v = _number(spec.get("value"), (*p, "value"), out)
            if v is not None:
                limits[str(name)] = Limit(v, _text(spec.get("label"), (*p, "label"), out),
                                          _text(spec.get("label_de"), (*p, "label_de"), out))
        else:
            out.append(Problem(p, "must be a number or {value, label, label_de}"))
    return limits


def _options(raw: dict[str, Any], path: Path, out: list[Problem], kind: str) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if "thresholds" in raw:
        t = raw["thresholds"]
        nums = [_number(x, (*path, "thresholds", i), out) for i, x in enumerate(t)] if isinstance(t, list) else None
        if nums is None or len(nums) > 4:
            out.append(Problem((*path, "thresholds"), "must be a list of up to 4 numbers"))
        elif all(n is not None for n in nums):
            opts["thresholds"] = tuple(sorted(float(n) for n in nums if n is not None))
    if "where" in raw:
        w = raw["where"]
        if isinstance(w, dict) and len(w) == 1 and next(iter(w)) in ("above", "below"):
            op = next(iter(w))
            if (n := _number(w[op], (*path, "where", op), out)) is not None:
                opts["where"] = (op, n)
        else:
            out.append(Problem((*path, "where"), "must be {above: number} or {below: number}"))
    for key, choices in (("aggregate", AGGREGATES), ("compare", COMPARES)):
        if key in raw:
            if raw[key] not in choices:
                out.append(Problem((*path, key), f"must be one of {', '.join(choices)}"))
            else:
                opts[key] = raw[key]
    for key in ("group_by", "limit_key", "unit", "value_property", "label_property"):
        if key in raw:
            opts[key] = _text(raw[key], (*path, key), out)
    if "averages" in raw:
        if not isinstance(raw["averages"], bool):
            out.append(Problem((*path, "averages"), "must be true or false"))
        else:
            opts["averages"] = raw["averages"]
    if "hours" in raw and (h := _int(raw["hours"], (*path, "hours"), out, 1, 24 * 14)) is not None:
        opts["hours"] = h
    if "limit" in raw and (n := _int(raw["limit"], (*path, "limit"), out, 1, 1000)) is not None:
        opts["limit"] = n
    for key in ("labels", "labels_de"):
        if key in raw:
            lab = raw[key]
            if not isinstance(lab, dict) or len(lab) > 20 or not all(
                    isinstance(k, int | float) and not isinstance(k, bool) and isinstance(v, str) and len(v) <= 100
                    for k, v in lab.items()):
                out.append(Problem((*path, key), "must map numbers to words (like {0: free, 1: occupied})"))
            else:
                opts[key] = {f"{float(k):g}": v for k, v in lab.items()}
    if "limits" in raw:
        opts["limits"] = _limits(raw["limits"], (*path, "limits"), out)
    if opts.get("compare") == "previous_year" and kind != "kpi":
        out.append(Problem((*path, "compare"), "previous_year compares a kpi panel only"))
    if opts.get("averages") and kind != "timeseries":
        out.append(Problem((*path, "averages"), "applies to a timeseries panel only"))
    return opts


def check_panel(raw: Any, index: int, out: list[Problem]) -> Panel | None:
    path: Path = ("panels", index)
    if not isinstance(raw, dict):
        out.append(Problem(path, "must be a mapping with type, title and a source"))
        return None
    before = len(out)
    for key in raw:
        if key not in PANEL_KEYS:
            out.append(Problem((*path, str(key)), f"unknown key {str(key)!r} (known: {', '.join(sorted(PANEL_KEYS))})"))
    kind = raw.get("type")
    if kind not in PANEL_TYPES:
        out.append(Problem((*path, "type"), f"must be one of {', '.join(PANEL_TYPES)}"))
        kind = "table"
    title = _text(raw.get("title"), (*path, "title"), out, required=True)
    texts: dict[str, Any] = {k: _text(raw.get(k), (*path, k), out) for k in ("title_de", "description", "description_de")}
    src = _panel_source(raw, path, out)
    if src.get("features") and kind == "timeseries":
        out.append(Problem((*path, "features"), "a timeseries panel reads SensorThings Observations or Datastreams"))
    opts = _options(raw, path, out, str(kind))
    if len(out) > before:
        return None
    return Panel(index=index, type=str(kind), title=title, **texts, **src, **opts)


def check(raw: Any, slug: str, *, origin: str = "file", source: str = "") -> tuple[Dashboard | None, list[Problem]]:
    """The dashboard ``raw`` defines, and the problems found (a dashboard with problems is None)."""
    out: list[Problem] = []
    if not SLUG_RE.match(slug):
        out.append(Problem(("slug",), "must be 1 to 64 lower-case letters, digits and hyphens"))
    if not isinstance(raw, dict):
        return None, [*out, Problem((), "must be a mapping with title and panels")]
    for key in raw:
        if key not in TOP_KEYS:
            out.append(Problem((str(key),), f"unknown key {str(key)!r} (known: {', '.join(sorted(TOP_KEYS))})"))
    title = _text(raw.get("title"), ("title",), out, required=True)
    texts = {k: _text(raw.get(k), (k,), out) for k in ("title_de", "description", "description_de")}
    org = raw.get("organization")
    if org is not None and (not isinstance(org, str) or not re.fullmatch(r"[a-z0-9_-]{1,100}", org)):
        out.append(Problem(("organization",), "must be the name of an organisation"))
    tz = raw.get("timezone") or "UTC"
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        out.append(Problem(("timezone",), f"{str(tz)[:60]!r} is no time zone (like Europe/Berlin)"))
    panels_raw = raw.get("panels")
    panels: list[Panel] = []
    if not isinstance(panels_raw, list) or not panels_raw or len(panels_raw) > MAX_PANELS:
        out.append(Problem(("panels",), f"must be a list of 1 to {MAX_PANELS} panels"))
    else:
        for i, p in enumerate(panels_raw):
            if (panel := check_panel(p, i, out)) is not None:
                panels.append(panel)
    if out:
        return None, out
    return Dashboard(slug=slug, title=title, **texts, organization=org if isinstance(org, str) else None,
                     timezone=str(tz), panels=tuple(panels), origin=origin, source=source), out


__all__ = ["Dashboard", "Panel", "Limit", "Problem", "check", "check_panel", "check_sta", "PANEL_TYPES", "SLUG_RE"]
