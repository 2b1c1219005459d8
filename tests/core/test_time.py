"""Times are read by ASCII rules everywhere: only ASCII text is accepted, and what is accepted round-trips.

Fuzzed with hypothesis over the shared reader (urbanos.core.time), the SensorThings store format
(urbanos.sensing.timefmt) and the feature store's reader (urbanos.features.store.parse_datetime)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.conftest import SQLITE_RUN_ONLY
from urbanos.core import time as isotime
from urbanos.errors import BadRequest
from urbanos.features.store import parse_datetime as store_parse
from urbanos.sensing import timefmt

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end

# digits that are not ASCII: Arabic-Indic, superscripts, fullwidth, mathematical bold
LOOKALIKE_DIGITS = "٠١٢٣٤٥٦٧٨٩²³¹⁰⁴０１２𝟎𝟏𝟐"
SAMPLES = ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5Z", "2024-02-29T23:59:59.123456+05:30", "2024-01-01",
           "2024-01-01T10:00", "2024-01-01 10:00:00-0130", "2024-01-01T10:00:00,25z", "9999-12-31T23:59:59Z"]


def _parsers() -> list[object]:
    return [isotime.parse_instant, lambda s: timefmt.store_instant(s), store_parse]


@pytest.mark.parametrize("text", ["2024-01-01T00:00:00.²Z", "2024-01-01²00:00:00", "٢٠٢٤-01-01T00:00:00Z",
                                  "2024-01-01T00:00:0١Z", "2024-01-01T00:00:00.١٢Z", "2024-01-01T00:00:00+0١:00",
                                  "2024-01-01T00:00:00Z\u200b", "２024-01-01"])
def test_lookalikes_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        isotime.parse_instant(text)
    with pytest.raises(BadRequest):
        timefmt.store_instant(text, "phenomenonTime")
    with pytest.raises(ValueError):
        store_parse(text)


def test_the_stored_form_that_was_accepted_before() -> None:
    # once stored and served as 00.²00000Z, and 00:00+01.000000Z
    for text in ("2024-01-01T00:00:00.²Z", "2024-01-01T00:00+01Z"):
        with pytest.raises(BadRequest) as info:
            timefmt.store_instant(text, "phenomenonTime")
        assert "2024-01-02T03:04:05Z" in info.value.message


@given(st.text(max_size=40))
@settings(max_examples=400)
def test_only_ascii_is_accepted(text: str) -> None:
    for parse in (isotime.parse_instant, store_parse):
        try:
            parse(text)  # type: ignore[operator]
        except (ValueError, OverflowError):
            continue
        assert text.strip().isascii(), (parse, text)
    try:
        stored = timefmt.store_instant(text)
    except BadRequest:
        return
    assert text.strip().isascii() and stored.isascii() and len(stored) == 27


@given(st.sampled_from(SAMPLES), st.integers(min_value=0, max_value=40), st.sampled_from(LOOKALIKE_DIGITS))
def test_a_lookalike_anywhere_is_refused(sample: str, at: int, digit: str) -> None:
    positions = [i for i, ch in enumerate(sample) if ch.isdigit()]
    i = positions[at % len(positions)]
    text = sample[:i] + digit + sample[i + 1:]
    with pytest.raises(ValueError):
        isotime.parse_instant(text)
    with pytest.raises(BadRequest):
        timefmt.store_instant(text)
    with pytest.raises(ValueError):
        store_parse(text)


OFFSETS = st.one_of(st.just(UTC), st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda m: timezone(timedelta(minutes=m))))


@given(st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9998, 12, 30)), OFFSETS,
       st.sampled_from(["isoformat", "z", "compact-offset", "millis"]))
@settings(max_examples=400)
def test_round_trip(naive: datetime, tz: timezone, style: str) -> None:
    dt = naive.replace(tzinfo=tz)
    if style == "isoformat":
        text = dt.isoformat()
    elif style == "z":
        dt = dt.astimezone(UTC)
        text = dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    elif style == "compact-offset":
        text = dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
    else:
        dt = dt.replace(microsecond=dt.microsecond // 1000 * 1000)
        text = dt.isoformat(timespec="milliseconds")
    assume(dt.utcoffset() is not None)
    parsed = isotime.parse_instant(text)
    assert parsed == dt
    stored = timefmt.store_instant(text)
    assert stored == timefmt.store(dt)
    assert isotime.parse_instant(timefmt.render(stored) or "") == dt
    assert store_parse(text) == dt.astimezone(UTC)


def test_forms() -> None:
    assert isotime.parse_instant("2024-01-01") == datetime(2024, 1, 1, tzinfo=UTC)
    assert isotime.parse_instant("2024-01-01T10:00:00.123456789Z").microsecond == 123456  # nanoseconds are cut
    assert isotime.parse_instant("2024-01-01T10:00:00", naive_offset=None).tzinfo is None
    for bad in ("2024-01-01T24:00:00Z", "2024-02-30", "2024-01-01T10:00:60Z", "2024-01-01T10:00:00+24:00", "20240101",
                "2024-W01-1", "2024-01-01T10", "2024-01-01X10:00:00", " 2024-01-01"):
        with pytest.raises(ValueError):
            isotime.parse_instant(bad)


@given(st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25), st.integers(0, 61),
       st.integers(0, 61))
def test_whole_seconds_take_the_short_path_to_the_same_answer(y: int, mo: int, d: int, h: int, mi: int, s: int) -> None:
    """``plain_utc`` checks whole-second UTC times by pattern and day; the answer is the full check's."""
    text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"
    try:
        datetime.fromisoformat(text[:19])
        expected: str | None = text[:19] + ".000000Z"
    except ValueError:
        expected = None
    assert timefmt.plain_utc(text) == expected
    assert timefmt.plain_utc(text[:19] + ".0Z") == expected  # the pattern with a fraction, as before
