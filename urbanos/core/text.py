"""Text a client writes, checked the same way on every write path before anything reaches the database.

A NUL character (``\\u0000``) cannot be stored in PostgreSQL text or JSONB (SQLite would keep it), so every API
refuses it, naming the field::

    >>> nul_problem({"name": "ok", "properties": {"kind": "a\\x00b"}})
    "The field 'properties/kind' contains the NUL character (\\\\u0000), which text cannot hold: remove it."

Pure: the caller raises its own error (a 400 in its standard's format) with the message and :func:`nul_field`.
"""

from __future__ import annotations

from typing import Any

NUL = "\x00"


def nul_field(value: Any) -> str | None:
    """Where the first NUL is in a parsed JSON value: the path of the field (``name``, ``properties/kind``,
    ``records/0/code``; a member name holding it gives the path of its object, ``"(the body)"`` the value
    itself), or None when there is none. Walks without recursion (any nesting depth)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        v, path = stack.pop()
        if isinstance(v, str):
            if NUL in v:
                return "/".join(path) or "(the body)"
        elif isinstance(v, dict):
            items = list(v.items())
            for k, item in reversed(items):
                if isinstance(k, str) and NUL in k:
                    return "/".join(path) or "(the body)"
                stack.append((item, (*path, str(k))))
        elif isinstance(v, list | tuple):
            for i in range(len(v) - 1, -1, -1):
                stack.append((v[i], (*path, str(i))))
    return None


def nul_problem(value: Any, field: str | None = None) -> str | None:
    """The message refusing ``value`` when it holds a NUL somewhere (``field`` names the value itself, for a single
    text), or None."""
    where = nul_field(value)
    if where is None:
        return None
    if field is not None:
        where = field if where == "(the body)" else f"{field}/{where}"
    return f"The field {where!r} contains the NUL character (\\u0000), which text cannot hold: remove it."


__all__ = ["NUL", "nul_field", "nul_problem"]
