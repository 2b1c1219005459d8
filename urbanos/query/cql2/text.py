"""The ``filter`` parameter: CQL2 text or CQL2 JSON, bounded before any parser sees it, to a tree."""

from __future__ import annotations

from typing import Any

import orjson

from urbanos.errors import BadRequest
from urbanos.query import ast, limits
from urbanos.query.cql2.reader import Reader, Reproject, ReprojectBox, bad

LANGUAGES = ("cql2-text", "cql2-json")
MAX_LENGTH = limits.CQL2_MAX_LENGTH
MAX_NESTING = limits.CQL2_MAX_NESTING  # of the text, before the native parser sees it
MAX_OPERATORS = limits.CQL2_MAX_OPERATORS
MAX_JSON_NESTING = limits.JSON_MAX_NESTING


def read(text: str, lang: str | None) -> Any:
    """The CQL2 JSON document of ``text`` in ``lang`` (``cql2-text``, the default, or ``cql2-json``)."""
    lang = (lang or "cql2-text").strip().lower()
    if len(text) > MAX_LENGTH:
        raise bad(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}: shorten it.")
    if lang == "cql2-json":
        # bounded before parsing: the reader and shapely recurse over the tree
        if (problem := limits.json_problem(text, max_nesting=MAX_JSON_NESTING)) is not None:
            raise bad(problem)
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise bad(f"not valid JSON: {exc}.") from None
    if lang != "cql2-text":
        raise BadRequest(f"filter-lang: {lang!r} is not supported; use cql2-text or cql2-json.", code="InvalidParameterValue")
    if not text.strip():
        raise bad("the expression is empty.")
    # The parser is native code that recurses once per level: too deep a text overflows the stack and kills the
    # process, so the text is measured first (parentheses, prefixes, operator chains; see urbanos.query.limits).
    if (problem := limits.cql2_text_problem(text, max_length=MAX_LENGTH, max_nesting=MAX_NESTING,
                                            max_operators=MAX_OPERATORS)) is not None:
        raise bad(problem)
    import cql2 as native  # the native parser is loaded on the first CQL2 text filter

    try:
        return native.parse_text(text).to_json()
    except Exception as exc:  # noqa: BLE001 - the parser raises its own error types
        raise bad(f"not valid CQL2 text: {str(exc).strip()[:300]}") from None


def parse(text: str | None, lang: str | None = None, *, to_storage: Reproject | None = None,
          bbox_to_storage: ReprojectBox | None = None) -> ast.Node | None:
    """The tree of a ``filter`` parameter (None when there is none). ``to_storage`` and ``bbox_to_storage``
    convert geometry literals from the ``filter-crs`` to WGS84 (None: the filter is in WGS84 already)."""
    if text is None:
        return None
    return Reader(to_storage, bbox_to_storage).predicate(read(text, lang))


__all__ = ["parse", "read", "LANGUAGES", "MAX_LENGTH", "MAX_NESTING", "MAX_OPERATORS", "MAX_JSON_NESTING"]
