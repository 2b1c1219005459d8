from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import SQLITE_RUN_ONLY
from urbanos.core.ids import MAX_ID, is_ascii_digits, parse_id

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end


def test_ascii_digits_only() -> None:
    assert parse_id("12") == 12 and parse_id(" 7 ") == 7 and parse_id("0") == 0
    for bad in ("²", "1²", "١٢", "１２", "-1", "+1", "1_000", "", " ", "0x1", str(MAX_ID + 1), "9" * 40):
        assert parse_id(bad) is None, bad
    assert parse_id(str(MAX_ID)) == MAX_ID
    assert not is_ascii_digits("²") and is_ascii_digits("0042")


@given(st.text(max_size=30))
def test_never_raises_and_agrees_with_int(text: str) -> None:
    value = parse_id(text)
    if value is not None:
        assert 0 <= value <= MAX_ID and int(text.strip()) == value
