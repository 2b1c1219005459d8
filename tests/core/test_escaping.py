"""JSON for a script element: the same value to a JSON parser, never markup to the HTML parser."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SQLITE_RUN_ONLY
from urbanos.core.escaping import escape_json_for_script, json_for_script

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end

SCRIPTY = st.sampled_from(["<", ">", "&", "\u2028", "\u2029", "</script>", "<!--", "'", '"', "\\"])
TEXT = st.lists(SCRIPTY | st.text(max_size=4), max_size=6).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53), max_value=2**53) | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=8,
)


def test_what_ends_or_confuses_a_script_element_is_escaped() -> None:
    text = json_for_script({"a": "</script><script>alert(1)</script>", "b": "<!--", "c": "&amp;", "d": "\u2028\u2029"})
    assert text == ('{"a":"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e","b":"\\u003c!--",'
                    '"c":"\\u0026amp;","d":"\\u2028\\u2029"}')
    assert escape_json_for_script('{"k":"</SCRIPT >"}') == '{"k":"\\u003c/SCRIPT \\u003e"}'


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(JSON_VALUES)
def test_the_json_means_the_same(value: object) -> None:
    text = json_for_script(value)
    assert not any(ch in text for ch in "<>&\u2028\u2029")
    assert orjson.loads(text) == value
    assert escape_json_for_script(orjson.dumps(value).decode()) == text

