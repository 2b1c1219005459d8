"""A JSON-Patch is bounded before it is applied: its number of operations and what it may add to the document
(each ``copy`` of the root doubles it: thirty make it 2^30 times larger)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import SQLITE_RUN_ONLY
from urbanos.errors import BadRequest
from urbanos.query.jsonpatch_guard import MAX_GROWTH_BYTES, check_json_patch, json_size

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end

DOC = {"name": "Thing", "description": "A thing", "properties": {"kind": "counter", "notes": "x" * 100}}


def doubling(n: int) -> list[dict[str, Any]]:
    return [{"op": "copy", "from": "/properties", "path": f"/properties/c{i}"} for i in range(n)]


def test_thirty_doublings_are_refused_early() -> None:
    doc = copy.deepcopy(DOC)
    with pytest.raises(BadRequest) as info:
        check_json_patch(doubling(30), doc)
    assert "bytes larger" in info.value.message and "'copy'" in info.value.message
    assert doc == DOC  # the caller's document is untouched


def test_ordinary_patches_pass() -> None:
    ops = [
        {"op": "replace", "path": "/name", "value": "Renamed"},
        {"op": "add", "path": "/properties/floor", "value": 3},
        {"op": "copy", "from": "/properties/kind", "path": "/properties/kind2"},
        {"op": "move", "from": "/properties/kind2", "path": "/properties/kind3"},
        {"op": "remove", "path": "/properties/notes"},
        {"op": "test", "path": "/name", "value": "Renamed"},
    ]
    check_json_patch(ops, DOC)
    check_json_patch(doubling(5), DOC)  # 32 times a small document is fine


def test_large_added_values_count() -> None:
    big = "y" * (MAX_GROWTH_BYTES // 4)
    check_json_patch([{"op": "add", "path": "/properties/a", "value": big}], DOC)
    with pytest.raises(BadRequest):
        check_json_patch([{"op": "add", "path": f"/properties/a{i}", "value": big} for i in range(5)], DOC)


def test_too_many_operations() -> None:
    ops = [{"op": "test", "path": "/name", "value": "Thing"}] * 1001
    with pytest.raises(BadRequest) as info:
        check_json_patch(ops, DOC)
    assert "the limit is 1000" in info.value.message


@pytest.mark.parametrize("ops", [
    "not a list",
    [{"op": "copy", "from": "/missing", "path": "/x"}] + doubling(30),
    [42] + doubling(30),
    [{"op": "remove", "path": "/nope"}] + doubling(30),
])
def test_what_cannot_be_followed_is_left_to_the_patch_library(ops: Any) -> None:
    check_json_patch(ops, DOC)  # applying the patch fails at the same first operation


def test_sizes_of_deep_values() -> None:
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    assert json_size(deep) == 3 + 5000 * 3
    assert json_size({"a": [1, True, None, "bc"]}) > 10
    assert json_size(["x" * 1000] * 1000, budget=5000) < 10_000  # stops counting past the budget
