"""The usage cockpit's figures: the period asked for, and the summary of the catalogue's usage rows over it (most
used datasets and APIs, the daily trend per API, the applications per dataset, the late datasets), as JSON, as the
page's tables and as CSV (cells that a spreadsheet would run as a formula neutralised)."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from urbanos.core.escaping import spreadsheet_text
from urbanos.errors import BadRequest
from urbanos.ports import LateDataset, UsageRow

CHOICES = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 366
CSV_COLUMNS = ("day", "dataset", "title", "resource", "api", "application", "kind", "count")
PUBLIC_COLUMNS = tuple(c for c in CSV_COLUMNS if c != "application")


@dataclass(frozen=True)
class Period:
    since: date
    until: date
    days: int | None  # the chosen preset, None for from/to

    def dates(self) -> list[str]:
        n = (self.until - self.since).days + 1
        return [(self.since + timedelta(days=i)).isoformat() for i in range(n)]


def _date(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name} must be a date as YYYY-MM-DD, not {text[:40]!r}.") from None


def period_of(query: Any, today: date | None = None) -> Period:
    """The period of ``?days=7|30|90`` or ``?since=…&until=…`` (``until`` defaults to today, UTC); BadRequest
    with the reason for anything else."""
    today = today or datetime.now(UTC).date()
    days_text, since_text, until_text = query.get("days"), query.get("since"), query.get("until")
    if days_text not in (None, "") and (since_text or until_text):
        raise BadRequest("Give either days or since/until, not both.")
    if since_text or until_text:
        until = _date("until", until_text) if until_text else today
        since = _date("since", since_text) if since_text else until - timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise BadRequest(f"since ({since}) is after until ({until}).")
        if (until - since).days + 1 > MAX_DAYS:
            raise BadRequest(f"The period is longer than {MAX_DAYS} days.")
        return Period(since, until, None)
    if days_text in (None, ""):
        days = DEFAULT_DAYS
    else:
        if days_text not in {str(n) for n in CHOICES}:
            raise BadRequest(f"days must be one of {', '.join(map(str, CHOICES))}, not {str(days_text)[:20]!r}.")
        days = int(days_text)
    return Period(today - timedelta(days=days - 1), today, days)


def summary(rows: list[UsageRow], late: list[LateDataset], period: Period, *, public: bool) -> dict[str, Any]:
    """The cockpit's figures over ``rows`` (``public``: without application names)."""
    by_dataset: Counter[str] = Counter()
    by_api: Counter[str] = Counter()
    titles: dict[str, str] = {}
    apps: dict[str, Counter[str]] = defaultdict(Counter)
    trend: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        by_dataset[r.dataset] += r.count
        by_api[r.api] += r.count
        titles[r.dataset] = r.title
        trend[r.api][r.day] += r.count
        if not public:
            apps[r.dataset][r.application] += r.count
    days = period.dates()
    datasets = []
    for name, n in sorted(by_dataset.items(), key=lambda kv: (-kv[1], kv[0])):
        item: dict[str, Any] = {"dataset": name, "title": titles.get(name, ""), "count": n}
        if not public:
            item["applications"] = [{"application": a, "count": c}
                                    for a, c in sorted(apps[name].items(), key=lambda kv: (-kv[1], kv[0]))]
        datasets.append(item)
    return {
        "since": period.since.isoformat(), "until": period.until.isoformat(), "days": period.days,
        "total": sum(by_api.values()),
        "datasets": datasets,
        "apis": [{"api": a, "count": n} for a, n in sorted(by_api.items(), key=lambda kv: (-kv[1], kv[0]))],
        "trend": {"days": days, "series": {api: [trend[api][d] for d in days] for api in sorted(trend)}},
        "late": [asdict(d) for d in late],
    }


def csv_text(rows: list[UsageRow], *, public: bool) -> str:
    """The usage rows as CSV (``public``: without the application column)."""
    cols = PUBLIC_COLUMNS if public else CSV_COLUMNS
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols)
    for r in rows:
        d = asdict(r)
        w.writerow([d[c] if c == "count" else spreadsheet_text(str(d[c])) for c in cols])
    return buf.getvalue()


def public_rows(rows: list[UsageRow]) -> list[dict[str, Any]]:
    """The rows as open data: without application names, the counts of applications added up."""
    total: Counter[tuple[str, str, str, str, str, str]] = Counter()
    for r in rows:
        total[(r.day, r.dataset, r.title, r.resource, r.api, r.kind)] += r.count
    return [dict(zip(PUBLIC_COLUMNS, (*k, n), strict=True)) for k, n in total.items()]


def merged_public(rows: list[UsageRow]) -> list[UsageRow]:
    return [UsageRow(day=r["day"], dataset=r["dataset"], title=r["title"], resource=r["resource"], api=r["api"],
                     application="", kind=r["kind"], count=r["count"]) for r in public_rows(rows)]


__all__ = ["Period", "period_of", "summary", "csv_text", "public_rows", "merged_public", "CHOICES"]
