"""When a connector runs: ``--every 5m`` (an interval) or ``--cron "*/5 * * * *"`` (five cron fields, in UTC).

Cron fields are minute, hour, day of month, month and day of week (0 or 7 is Sunday); each is ``*``, a number, a range
``a-b``, a step ``*/n`` or ``a-b/n``, or a comma-separated list of those. As in cron, when both the day of month and the
day of week are restricted, a day matching either one is a match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from urbanos.core.ids import is_ascii_digits
from urbanos.errors import ValidationFailed

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
NAMES = ("minute", "hour", "day of month", "month", "day of week")
MIN_INTERVAL = 1
MAX_INTERVAL = 366 * 86400


def parse_every(text: str) -> int:
    """``30s``, ``5m``, ``2h``, ``1d`` or a number of seconds, as seconds."""
    raw = str(text).strip().lower()
    unit = raw[-1:] if raw[-1:] in UNITS else "s"
    number = raw[:-1] if raw[-1:] in UNITS else raw
    if not is_ascii_digits(number) or not MIN_INTERVAL <= int(number) * UNITS[unit] <= MAX_INTERVAL:
        raise ValidationFailed(f"every: {text!r} is not an interval; write e.g. 30s, 5m, 2h or 1d (at most 366d).",
                               detail={"every": ["an interval such as 5m"]})
    return int(number) * UNITS[unit]


def _field(text: str, index: int) -> frozenset[int]:
    lo, hi = BOUNDS[index]
    values: set[int] = set()
    for part in text.split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if is_ascii_digits(step_text) else (1 if not step_text else 0)
        if rng == "*":
            start, end = lo, hi
        elif "-" in rng:
            a, _, b = rng.partition("-")
            start, end = (int(a), int(b)) if is_ascii_digits(a) and is_ascii_digits(b) else (-1, -1)
        else:
            start = end = int(rng) if is_ascii_digits(rng) else -1
            end = hi if step_text and start >= 0 else end
        if step < 1 or not lo <= start <= end <= hi:
            raise ValidationFailed(f"cron: {part!r} is not a valid {NAMES[index]} ({lo}-{hi}).",
                                   detail={"cron": [f"field {index + 1}: {part!r}"]})
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = str(text).split()
        if len(parts) != 5:
            raise ValidationFailed(f"cron: {text!r} needs five fields (minute hour day month weekday), e.g. '*/5 * * * *'.",
                                   detail={"cron": ["five fields"]})
        f = [_field(p, i) for i, p in enumerate(parts)]
        return cls(f[0], f[1], f[2], f[3], f[4], parts[2] == "*", parts[4] == "*")

    def _day_matches(self, t: datetime) -> bool:
        dom = t.day in self.days
        dow = (t.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def next_after(self, after: datetime) -> datetime:
        """The first matching minute strictly after ``after`` (within five years; ValidationFailed when none)."""
        t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = after + timedelta(days=5 * 366)
        while t <= end:
            if t.month not in self.months or not self._day_matches(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
            elif t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t
        raise ValidationFailed("cron: the schedule never matches a date.", detail={"cron": ["never matches"]})


def next_run(after: datetime, every_seconds: int | None, cron: str | None) -> datetime | None:
    """When a connector with this schedule runs next after ``after`` (None: only when asked)."""
    if cron:
        return Cron.parse(cron).next_after(after)
    if every_seconds:
        return after + timedelta(seconds=int(every_seconds))
    return None


__all__ = ["parse_every", "Cron", "next_run"]
