"""A dashboard as its viewer sees it: every panel read (as the viewer) and turned into what the page shows — the
table of its values (the page's first render, the non-script alternative and the CSV), the chart's series, the map's
markers and the KPI — plus the Datastreams whose Observations update the page live."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from urbanos.cockpit.dashboards import compare
from urbanos.cockpit.dashboards.data import Item, Reader, Series
from urbanos.cockpit.dashboards.i18n import fmt_day, fmt_number, translator

if TYPE_CHECKING:
    from urbanos.cockpit.dashboards.model import Dashboard, Panel

AGG: dict[str, Callable[[list[float]], float]] = {
    "sum": sum, "mean": lambda v: sum(v) / len(v), "min": min, "max": max, "count": lambda v: float(len(v))}


@dataclass
class Row:
    cells: list[str]
    ds: int | None = None  # the Datastream whose value is in column ``vcol`` (live updates)
    vcol: int = 1
    cls: str = ""


@dataclass
class PanelView:
    id: str
    type: str
    title: str
    description: str
    unit: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    client: dict[str, Any] = field(default_factory=dict)  # what dashboards.js needs (a JSON data block)
    kpi: str = ""
    kpi_sub: str = ""
    choices: list[tuple[int, str]] = field(default_factory=list)
    chosen: int | None = None


def passes(where: tuple[str, float] | None, v: float | None) -> bool:
    if where is None:
        return True
    if v is None:
        return False
    return v > where[1] if where[0] == "above" else v < where[1]


def band(thresholds: tuple[float, ...], v: float | None) -> str:
    if v is None or not thresholds:
        return "none"
    if v < thresholds[0]:
        return "ok"
    return "alert" if v >= thresholds[-1] else "warn"


def legend_of(p: Panel, t: Callable[..., str], lang: str) -> list[tuple[str, str]]:
    th = p.thresholds
    if p.compare == "weekdays":
        return [(c, t("cmp_" + c)) for c in ("low", "normal", "high", "none")] if p.type == "map" else []
    if not th:
        return []
    if p.labels:
        return [(band(th, float(k)), f"{p.label(float(k), lang)} ({fmt_number(float(k), lang)})") for k in p.labels]
    f = [fmt_number(x, lang) for x in th]
    out = [("ok", t("ok", t=f[0]))]
    if len(th) > 1:
        out.append(("warn", t("warn", a=f[0], b=f[-1])))
    return [*out, ("alert", t("alert", t=f[-1]))]


class Builder:
    """Builds the panel views of one dashboard for one viewer, language and chosen sensor."""

    def __init__(self, reader: Reader, dash: Dashboard, lang: str, params: dict[str, str]) -> None:
        self.reader = reader
        self.dash = dash
        self.lang = lang
        self.t = translator(lang)
        self.params = params
        self.tz = ZoneInfo(dash.timezone)

    def n(self, v: float | None) -> str:
        return fmt_number(v, self.lang)

    def days(self, days: list[Any]) -> str:
        return ", ".join(fmt_day(d, self.lang) for d in days)

    def local(self, stamp: str) -> str:
        if not stamp:
            return ""
        return compare.parse_lenient(stamp).astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    async def build(self) -> list[PanelView]:
        return list(await asyncio.gather(*(self.panel(p) for p in self.dash.panels)))

    def base(self, p: Panel) -> PanelView:
        return PanelView(id=f"p{p.index}", type=p.type, title=self.text(p, "title"),
                         description=self.text(p, "description"), unit=p.unit, columns=[],
                         legend=legend_of(p, self.t, self.lang))

    def text(self, p: Panel, key: str) -> str:
        v = getattr(p, f"{key}_de", "") if self.lang == "de" else ""
        return str(v or getattr(p, key))

    async def panel(self, p: Panel) -> PanelView:
        if p.type == "timeseries":
            return await self.timeseries(p)
        items = await (self.reader.features(p) if p.features else self.reader.datastreams(p))
        view = self.base(p)
        cmp = await self.comparison(p, items)
        if p.type == "kpi":
            self.kpi(view, p, items, cmp)
        elif p.group_by:
            self.groups(view, p, items)
        else:
            self.items(view, p, items, cmp)
        return view

    async def comparison(self, p: Panel, items: list[Item]) -> compare.Comparison | None:
        if not p.compare or p.features or not items:
            return None
        if p.compare == "previous_year":
            return await compare.previous_year(self.reader, p, items, self.tz)
        return await compare.weekdays(self.reader, p, items, self.tz)

    def compare_note(self, cmp: compare.Comparison | None) -> list[str]:
        if cmp is None:
            return []
        if cmp.missing and not cmp.days:
            return [self.t("compare_missing")]
        if cmp.fallback:
            wd = cmp.days[0].strftime("%A") if self.lang != "de" else ""
            return [self.t("compare_fallback", weekday=wd, hour=cmp.hour, days=self.days(cmp.days))]
        if cmp.missing:
            return [self.t("compare_missing")]
        return [self.t("compare_weekdays", hour=cmp.hour, days=self.days(cmp.days))]

    def items(self, view: PanelView, p: Panel, items: list[Item], cmp: compare.Comparison | None) -> None:
        t = self.t
        view.columns = [t("name"), t("value"), t("unit"), t("time_in", tz=self.dash.timezone)]
        limit_col = bool(p.limits and p.limit_key)
        if cmp is not None:
            view.columns += [t("reference"), t("versus")]
        if limit_col:
            view.columns += [t("limit"), t("exceeds")]
        markers = []
        shown = [it for it in items if passes(p.where, it.value)]
        things = [it.thing for it in items]
        unique = all(things) and len(set(things)) == len(things)
        for it in shown:
            ref = cmp.values.get(int(it.id)) if cmp is not None and isinstance(it.id, int) else None
            cls = compare.ratio_class(it.value, ref) if cmp is not None else band(p.thresholds, it.value)
            word = p.label(it.value, self.lang)
            value = (word or self.n(it.value)) if it.value is not None else it.text
            cells = [it.thing if unique else it.name, value, "" if word else it.unit or p.unit, self.local(it.time)]
            if cmp is not None:
                cells += [self.n(ref), t("cmp_" + cls)]
            lim = p.limits.get(str(it.props.get(p.limit_key, ""))) if limit_col else None
            if limit_col:
                over = lim is not None and it.value is not None and it.value > lim.value
                cells += [(self.n(lim.value) + (" " + (lim.label_de if self.lang == "de" and lim.label_de else
                                                       lim.label)).rstrip()) if lim else "–",
                          (t("yes") if over else t("no")) if lim else "–"]
                cls = "alert" if over else "ok" if lim else cls
            view.rows.append(Row(cells, it.id if isinstance(it.id, int) and it.live else None, 1, cls))
            if it.lat is not None and it.lon is not None:
                markers.append({"id": it.id, "name": it.thing if unique else it.name, "lat": it.lat, "lon": it.lon,
                                "value": it.value, "text": word or it.text, "unit": it.unit or p.unit, "cls": cls, "ref": ref,
                                "live": it.live})
        view.notes += self.compare_note(cmp)
        if p.where is not None:
            view.notes.append(f"{t('where_' + p.where[0], t=self.n(p.where[1]))}: "
                              f"{t('kpi_where', n=len(shown), total=len(items))}")
        view.client = {"markers": markers, "thresholds": list(p.thresholds), "compare": p.compare,
                       "labels": p.labels_de if self.lang == "de" and p.labels_de else p.labels,
                       "cmp": {c: t("cmp_" + c) for c in ("low", "normal", "high", "none")},
                       "where": list(p.where) if p.where else None,
                       "live": [it.id for it in items if it.live and isinstance(it.id, int)]}

    def groups(self, view: PanelView, p: Panel, items: list[Item]) -> None:
        t = self.t
        agg = p.aggregate
        view.columns = [p.group_by.replace("_", " ").capitalize(), t("agg_" + agg) + (f" ({t('where_' + p.where[0], t=self.n(p.where[1]))})"
                                                       if p.where else ""), t("count")]
        groups: dict[str, list[Item]] = {}
        for it in items:
            groups.setdefault(str(it.props.get(p.group_by, "–")), []).append(it)
        for name in sorted(groups):
            members = groups[name]
            vals = [it.value for it in members if it.value is not None and passes(p.where, it.value)]
            value = float(len(vals)) if agg == "count" else (AGG[agg](vals) if vals else None)
            view.rows.append(Row([name, self.n(value), str(len(members))], None, 1))
        view.client = {"groups": {name: [it.id for it in groups[name]] for name in groups}, "aggregate": agg,
                       "where": list(p.where) if p.where else None,
                       "values": {str(it.id): it.value for it in items},
                       "live": [it.id for it in items if it.live and isinstance(it.id, int)]}

    def kpi(self, view: PanelView, p: Panel, items: list[Item], cmp: compare.Comparison | None) -> None:
        t = self.t
        vals = [it.value for it in items if it.value is not None and passes(p.where, it.value)]
        agg = p.aggregate
        value = float(len(vals)) if agg == "count" else (AGG[agg](vals) if vals else None)
        view.kpi = self.n(value) + (f" {p.unit}" if p.unit and value is not None else "")
        view.columns = [t("name"), t("value")]
        view.rows.append(Row([view.title, view.kpi], None, 1))
        if p.where is not None:
            view.kpi_sub = f"{t('where_' + p.where[0], t=self.n(p.where[1]))}: {t('kpi_where', n=len(vals), total=len(items))}"
        if cmp is not None:
            ref_vals = list(cmp.values.values())
            ref = (float(len(ref_vals)) if agg == "count" else AGG[agg](ref_vals)) if ref_vals else None
            if p.compare == "previous_year":
                day = self.days(cmp.days)
                view.notes.append(t("previous_year_missing", day=day) if cmp.missing
                                  else t("previous_year", day=day, value=self.n(ref)))
            else:
                view.notes += self.compare_note(cmp)
            now_vals = [it.value for it in items if it.value is not None and it.id in cmp.values]  # like for like
            same = (float(len(now_vals)) if agg == "count" else AGG[agg](now_vals)) if now_vals else None
            if ref is not None and same is not None and ref > 0:
                view.kpi_sub = (view.kpi_sub + " · " if view.kpi_sub else "") + f"{(same / ref - 1) * 100:+.0f} %"
                view.rows.append(Row([t("reference"), self.n(ref)], None, 1))
        sub = (f"{t('where_' + p.where[0], t=self.n(p.where[1]))}: {t('kpi_where', n='{n}', total='{total}')}"
               if p.where is not None and cmp is None else "")
        view.client = {"aggregate": agg, "where": list(p.where) if p.where else None, "unit": p.unit, "sub": sub,
                       "values": {str(it.id): it.value for it in items},
                       "live": [it.id for it in items if it.live and isinstance(it.id, int)]}

    async def timeseries(self, p: Panel) -> PanelView:
        view = self.base(p)
        if p.averages and not p.observations:
            await self.profile(view, p)
            return view
        series = await self.reader.series(p, p.hours)
        self.series_table(view, p, series)
        return view

    def series_table(self, view: PanelView, p: Panel, series: list[Series]) -> None:
        t = self.t
        view.columns = [t("series"), t("time_in", tz=self.dash.timezone), t("value")]
        for s in series:
            for when, v in s.points[-200:]:
                view.rows.append(Row([s.name, self.local(when), self.n(v)], None, 2))
        view.client = {"mode": "time", "unit": p.unit or (series[0].unit if series else ""),
                       "series": [{"name": s.name, "ds": s.datastream, "points": s.points} for s in series],
                       "live": [s.datastream for s in series if s.datastream is not None]}

    async def profile(self, view: PanelView, p: Panel) -> None:
        t = self.t
        items = await self.reader.datastreams(p)
        view.choices = [(int(it.id), it.thing or it.name) for it in items]
        wanted = self.params.get("sensor", "")
        chosen = next((it for it in items if str(it.id) == wanted), items[0] if items else None)
        view.columns = [t("hour"), t("today", day=""), t("avg4"), t("avg52")]
        if chosen is None or not chosen.time:
            view.client = {"mode": "hours", "series": [], "live": []}
            return
        view.chosen = int(chosen.id)
        prof = await compare.day_profile(self.reader, int(chosen.id), chosen.time, self.tz)
        view.columns[1] = t("today", day=fmt_day(prof.day, self.lang))
        for h in range(24):
            view.rows.append(Row([f"{h:02d}:00", self.n(prof.hours[h]), self.n(prof.avg4[h]), self.n(prof.avg52[h])],
                                 None, 1))
        if any(v is not None for v in prof.avg4):
            view.notes.append(t("avg4_days", days=self.days(prof.days4)))
        else:
            view.notes.append(t("compare_missing"))
        if prof.weeks52 < 52:
            view.notes.append(t("avg52_short", day=fmt_day(prof.day, self.lang), n=prof.weeks52,
                                first=self.local(prof.first)[:10]))
        series = [{"name": t("today", day=fmt_day(prof.day, self.lang)), "ds": int(chosen.id), "points": prof.hours},
                  {"name": t("avg4"), "ds": None, "points": prof.avg4}]
        if prof.weeks52 == 52:
            series.append({"name": t("avg52"), "ds": None, "points": prof.avg52})
        current = compare.local_hour(chosen.time, self.tz).hour
        view.client = {"mode": "hours", "unit": chosen.unit, "series": series, "hour": current,
                       "day": prof.day.isoformat(), "tz": self.dash.timezone, "live": [int(chosen.id)]}


async def build(reader: Reader, dash: Dashboard, lang: str, params: dict[str, str]) -> list[PanelView]:
    return await Builder(reader, dash, lang, params).build()


__all__ = ["PanelView", "Row", "Builder", "build", "band", "passes"]
