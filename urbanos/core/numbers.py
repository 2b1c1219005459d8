"""Integers read from request values by ASCII rules only.

``int()`` reads digits beyond ASCII (``int("١٢") == 12``) and numbers of any size; ``str.isdigit`` accepts
``"²"``, which ``int()`` then refuses. Values from query strings, forms and JSON bodies are read here instead: a
look-alike or an out-of-range number is "not an integer" (a 4xx at the caller), never a 500 and never a match.
"""

from __future__ import annotations

import re
from typing import Any

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INT = re.compile(r"[+-]?[0-9]{1,19}")


def parse_int(value: Any, *, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int | None:
    """The integer ``value`` stands for, or None: an ``int`` (not a bool), a float without a fraction, or text of an
    optional sign and ASCII digits (surrounding spaces allowed); the result must lie in ``[lo, hi]``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        n = int(value)
    elif isinstance(value, str):
        s = value.strip()
        if not _INT.fullmatch(s):
            return None
        n = int(s)
    else:
        return None
    return n if lo <= n <= hi else None


__all__ = ["parse_int", "INT64_MIN", "INT64_MAX"]
