"""Query strings checked for UTF-8 before anything reads them.

Starlette decodes percent-escapes with ``errors="replace"``: ``$filter=name eq '%FF'`` reaches a parser as
``name eq '\ufffd'`` and silently asks for something else. :func:`undecodable_parameter` finds the first name or
value that is not valid UTF-8 once percent-decoded (raw bytes beyond ASCII included), so the request can be
refused with a 400 instead. Pure and linear; no I/O.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes


def undecodable_parameter(raw: bytes) -> str | None:
    """The name (as far as it can be shown) of the first parameter of the query string ``raw`` whose name or value
    is not valid UTF-8 after percent-decoding, or None when every one is."""
    if not raw:
        return None
    if b"%" not in raw and raw.isascii():
        return None
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        name_bytes = unquote_to_bytes(name.replace(b"+", b" "))
        try:
            name_bytes.decode("utf-8")
            unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return name_bytes.decode("utf-8", "replace")[:40]
    return None


def utf8_problem(raw: bytes, what: str = "query parameter") -> str | None:
    """A message for the first parameter of ``raw`` (a query string, or a form body when ``what`` says so) that is
    not valid UTF-8, naming the fix; or None."""
    name = undecodable_parameter(raw)
    if name is None:
        return None
    return (f"The {what} {name!r} is not valid UTF-8 once percent-decoded (such as %FF); "
            "percent-encode text as UTF-8, e.g. %C3%A9 for é.")


__all__ = ["undecodable_parameter", "utf8_problem"]
