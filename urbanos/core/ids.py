"""Integer ids and numbers read from text, by ASCII rules only.

``str.isdigit()`` and ``int()`` accept characters beyond ASCII (``"²"`` is a digit to the first and not
to the second; ``"١٢"`` is 12 to both). Ids in paths, query strings and bodies are read with these
functions instead, so a look-alike character is an unknown id (a 4xx), never a 500 and never a match.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty string of the characters 0-9 only."""
    return bool(text) and text.isascii() and text.isdigit()


def parse_id(text: str) -> int | None:
    """The non-negative 64-bit id written in ``text`` (ASCII digits, surrounding spaces allowed), or None."""
    s = text.strip()
    if not is_ascii_digits(s) or len(s) > 19:
        return None
    value = int(s)
    return value if value <= MAX_ID else None


__all__ = ["MAX_ID", "is_ascii_digits", "parse_id"]
