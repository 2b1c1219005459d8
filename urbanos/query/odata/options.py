"""System query options: ``$filter $orderby $select $expand $top $skip $count $resultFormat``.

:func:`parse_query` turns the (already URL-decoded) query parameters into a
:class:`~urbanos.query.ast.QueryOptions`. Option names are matched without regard
to case (``$resultFormat`` = ``$resultformat``); parameters without ``$`` are kept
in ``QueryOptions.extra``; any other ``$``-option (``$apply``, ``$search`` …) is a
NotImplementedFeature (501), as the SensorThings standard asks of a query option the service does not support.

``top``: ``parse_query`` always sets it: the ``$top`` given (capped at ``max_top``)
or ``default_top``. ``top=None`` in a :class:`QueryOptions` means "no limit"; it
only appears when the caller passes ``default_top=None`` (or builds the options
itself), and the caller then applies its own limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from urbanos.errors import BadRequest, NotImplementedFeature
from urbanos.query import ast
from urbanos.query.odata.lexer import error
from urbanos.query.odata.parser import parse_filter, parse_orderby

OPTIONS = {
    "$filter": "$filter",
    "$orderby": "$orderby",
    "$select": "$select",
    "$expand": "$expand",
    "$top": "$top",
    "$skip": "$skip",
    "$count": "$count",
    "$resultformat": "$resultFormat",
    "$skiptoken": "$skiptoken",
}
_NAME = re.compile(r"[^\W\d][\w]*|@iot\.id|@iot\.selfLink")
_SEGMENT = re.compile(r"\s*([^\W\d]\w*)\s*")
_INT64 = 2**63 - 1
MAX_EXPAND_DEPTH = 10


def unsupported(key: str, where: str = "") -> NotImplementedFeature:
    """A ``$``-option that is not one of the standard's: 501 Not Implemented (OGC 18-088, query status codes)."""
    supported = ", ".join(sorted(set(OPTIONS.values()) - {"$skiptoken"}))
    return NotImplementedFeature(f"{where}the query option {key[:40]!r} is not supported; supported: {supported}.",
                                 detail={"option": key[:40]})


def _non_negative(where: str, raw: str) -> int:
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        raise BadRequest(f"{where} must be a non-negative integer, not {raw[:40]!r}.", detail={"option": where})
    value = int(text)
    if value > _INT64:
        raise BadRequest(f"{where} is too large: {text[:40]}.", detail={"option": where})
    return value


def parse_select(text: str, where: str = "$select") -> tuple[tuple[str, ...], ...] | None:
    """``name, Nav/name, properties/a`` into paths; ``*`` gives None (all properties)."""
    items: list[tuple[str, ...]] = []
    pos = 0
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise error(where, pos, "expected a property name, found nothing")
        if item == "*":
            return None
        parts = tuple(p.strip() for p in item.split("/"))
        for part in parts:
            if not _NAME.fullmatch(part):
                raise error(where, pos + raw.find(part[:1] or "/"), f"expected a property name, found {part[:40]!r}")
        if parts not in items:
            items.append(parts)
        pos += len(raw) + 1
    return tuple(items)


def _closing_quote(text: str, i: int, where: str, offset: int = 0) -> int:
    """Index of the quote that closes the quoted text opening at ``i`` (a doubled quote is text)."""
    n = len(text)
    j = text.find("'", i + 1)
    while j != -1 and j + 1 < n and text[j + 1] == "'":
        j = text.find("'", j + 2)
    if j == -1:
        raise error(where, offset + i, "the quoted text is not closed")
    return j


def _matching_paren(text: str, start: int, where: str) -> int:
    """Index of the ')' that closes the '(' at ``start`` (quotes respected)."""
    depth, i, n = 0, start, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            i = _closing_quote(text, i, where)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise error(where, start, "the '(' is not closed")


def _split_top(text: str, sep: str, where: str, offset: int) -> list[tuple[int, str]]:
    """Split at ``sep`` outside quotes and parentheses; returns (offset, part) pairs."""
    out: list[tuple[int, str]] = []
    depth, i, n, begin = 0, 0, len(text), 0
    while i < n:
        ch = text[i]
        if ch == "'":
            i = _closing_quote(text, i, where, offset)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise error(where, offset + i, "this ')' has no matching '('")
        elif ch == sep and depth == 0:
            out.append((offset + begin, text[begin:i]))
            begin = i + 1
        i += 1
    out.append((offset + begin, text[begin:]))
    return out


def parse_expand(
    text: str,
    *,
    max_top: int = 10000,
    default_top: int | None = 100,
    where: str = "$expand",
    _depth: int = 0,
) -> tuple[ast.Expand, ...]:
    """``Datastreams/Sensor, Locations($select=name;$top=1)`` into Expand items with nested options."""
    if _depth > MAX_EXPAND_DEPTH:
        raise BadRequest(f"{where}: $expand is nested more than {MAX_EXPAND_DEPTH} levels deep.")
    items: list[ast.Expand] = []
    i, n = 0, len(text)
    while True:
        path: list[str] = []
        while True:
            m = _SEGMENT.match(text, i)
            if not m:
                found = repr(text[i : i + 20]) if i < n else "the end"
                raise error(where, i, f"expected a navigation property name, found {found}")
            path.append(m.group(1))
            i = m.end()
            if i < n and text[i] == "/":
                i += 1
                continue
            break
        inner: dict[str, str] = {}
        label = f"{where}({'/'.join(path)})"
        if i < n and text[i] == "(":
            close = _matching_paren(text, i, where)
            body = text[i + 1 : close]
            for off, part in _split_top(body, ";", where, i + 1):
                if not part.strip():
                    continue
                name, eq, value = part.partition("=")
                key = name.strip().lower()
                if eq and key.startswith("$") and key not in OPTIONS:
                    raise unsupported(name.strip(), f"{label}: ")
                if not eq or key not in OPTIONS or key == "$skiptoken":
                    raise error(where, off, f"expected a query option such as $filter=…, found {part.strip()[:40]!r}")
                if key in inner:
                    raise error(where, off, f"{OPTIONS[key]} is given twice")
                inner[key] = value
            i = close + 1
            while i < n and text[i].isspace():
                i += 1
        opts = _build(inner, max_top=max_top, default_top=default_top, prefix=label + "/", depth=_depth + 1)
        items.append(ast.Expand(tuple(path), opts))
        if i >= n:
            return tuple(items)
        if text[i] != ",":
            raise error(where, i, f"expected ',' or '(' after {'/'.join(path)!r}, found {text[i]!r}")
        i += 1


def _build(
    p: Mapping[str, str], *, max_top: int, default_top: int | None, prefix: str = "", depth: int = 0,
    extra: dict[str, str] | None = None,
) -> ast.QueryOptions:
    """``p`` has lower-case ``$``-names already checked against OPTIONS."""

    def label(key: str) -> str:
        return prefix + OPTIONS[key]

    flt = parse_filter(p["$filter"], label("$filter")) if "$filter" in p else None
    orderby = parse_orderby(p["$orderby"], label("$orderby")) if "$orderby" in p else ()
    select = parse_select(p["$select"], label("$select")) if "$select" in p else None
    expand = (
        parse_expand(p["$expand"], max_top=max_top, default_top=default_top, where=label("$expand"), _depth=depth)
        if "$expand" in p
        else ()
    )
    top = default_top
    if "$top" in p:
        top = min(_non_negative(label("$top"), p["$top"]), max_top)
    elif top is not None:
        top = min(top, max_top)
    skip = _non_negative(label("$skip"), p["$skip"]) if "$skip" in p else 0
    count: bool | None = None
    if "$count" in p:
        raw = p["$count"].strip()
        if raw not in ("true", "false"):
            raise BadRequest(f"{label('$count')} must be true or false, not {p['$count'][:40]!r}.",
                             detail={"option": label("$count")})
        count = raw == "true"
    result_format = None
    if "$resultformat" in p:
        result_format = p["$resultformat"].strip()
        if not result_format or not re.fullmatch(r"[\w.+-]+", result_format):
            raise BadRequest(f"{label('$resultformat')} {p['$resultformat'][:40]!r} is not a format name.",
                             detail={"option": label("$resultformat")})
    return ast.QueryOptions(
        filter=flt, orderby=orderby, select=select, expand=expand, top=top, skip=skip, count=count,
        result_format=result_format, extra=extra or {},
    )


def parse_query(params: Mapping[str, str], *, max_top: int = 10000, default_top: int | None = 100) -> ast.QueryOptions:
    """All system query options of one request. Non-``$`` parameters go to ``extra`` (and ``$skiptoken``)."""
    system: dict[str, str] = {}
    extra: dict[str, str] = {}
    for key, value in params.items():
        if not key.startswith("$"):
            extra[key] = value
            continue
        low = key.lower()
        if low not in OPTIONS:
            raise unsupported(key)
        if low in system:
            raise BadRequest(f"{OPTIONS[low]} is given twice.", detail={"option": OPTIONS[low]})
        if low == "$skiptoken":
            extra["$skiptoken"] = value
            continue
        system[low] = value
    return _build(system, max_top=max_top, default_top=default_top, extra=extra)


__all__ = ["parse_query", "parse_select", "parse_expand", "unsupported", "OPTIONS"]
