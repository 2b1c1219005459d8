"""Bounds on a JSON-Patch document (RFC 6902) before it is applied.

A patch is small but its result need not be: each ``copy`` duplicates a part of the document, so thirty copies
of the root double it thirty times (2^30 times its size), inside the caller's write transaction. The same goes,
more slowly, for ``add`` and ``replace`` of large values. :func:`check_json_patch` counts the operations and
follows the patch on a copy of the document, measuring what each operation adds; past the limits it raises a 400
before anything is applied. Operations it cannot follow (malformed, or failing) stop the check: applying the
patch then fails at the same operation with its own error.

Pure: no I/O; the caller's document is never changed.
"""

from __future__ import annotations

import copy
from typing import Any

from urbanos.errors import BadRequest

MAX_OPERATIONS = 1000
MAX_GROWTH_BYTES = 1 << 20


def json_size(value: Any, budget: int | None = None) -> int:
    """About the length of ``value`` as JSON text (iterative, so any depth is fine); the count stops once it
    passes ``budget``."""
    total = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v) + 2
        elif isinstance(v, dict):
            total += 2 + len(v)
            for k, item in v.items():
                total += len(str(k)) + 3
                stack.append(item)
        elif isinstance(v, list | tuple):
            total += 2 + len(v)
            stack.extend(v)
        elif v is None or isinstance(v, bool):
            total += 5
        else:
            total += len(str(v)) if isinstance(v, int | float) else 8
        if budget is not None and total > budget:
            return total
    return total


def _resolve(doc: Any, pointer: Any) -> tuple[bool, Any]:
    """(found, value) at a JSON Pointer of ``doc``."""
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        return False, None
    if pointer == "":
        return True, doc
    node = doc
    for raw in pointer[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            if part not in node:
                return False, None
            node = node[part]
        elif isinstance(node, list):
            if not part.isascii() or not part.isdigit() or (len(part) > 1 and part[0] == "0") or int(part) >= len(node):
                return False, None
            node = node[int(part)]
        else:
            return False, None
    return True, node


def check_json_patch(ops: Any, doc: Any, *, max_operations: int = MAX_OPERATIONS,
                     max_growth: int = MAX_GROWTH_BYTES) -> None:
    """Raise BadRequest when the patch ``ops`` has more than ``max_operations`` operations, or when applying it to
    ``doc`` would add more than ``max_growth`` bytes (as JSON) to the document."""
    if not isinstance(ops, list):
        return
    if len(ops) > max_operations:
        raise BadRequest(f"The JSON-Patch has {len(ops)} operations; the limit is {max_operations}: send fewer, or "
                         "PATCH the entity with a JSON object (merge patch) instead.")
    import jsonpatch  # type: ignore[import-untyped]

    work = copy.deepcopy(doc)
    grown = 0
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            return
        kind = op.get("op")
        if kind in ("add", "replace"):
            grown += json_size(op.get("value"), max_growth - grown)
        elif kind == "copy":
            found, value = _resolve(work, op.get("from"))
            if not found:
                return
            grown += json_size(value, max_growth - grown)
        if grown > max_growth:
            raise BadRequest(f"The JSON-Patch would make the entity more than {max_growth} bytes larger (operation "
                             f"{i + 1}, {kind!r}); copy or add smaller parts, or replace the property with its new "
                             "value instead.")
        if kind in ("add", "replace", "copy", "move", "remove"):
            try:
                work = jsonpatch.JsonPatch([op]).apply(work, in_place=True)
            except Exception:  # noqa: BLE001 - the real application reports this operation's error
                return


__all__ = ["check_json_patch", "json_size", "MAX_OPERATIONS", "MAX_GROWTH_BYTES"]
