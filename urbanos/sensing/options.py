"""Query options: the shared OData parser (``urbanos.query.odata``) turns the query string into a
:class:`~urbanos.query.ast.QueryOptions`. Until that parser is installed, a reduced reader handles the
options that need no expression grammar ($top, $skip, $count, $select, $orderby on properties,
$expand with nested options); ``$filter`` then answers 501."""

from __future__ import annotations

import importlib
from typing import Any

from urbanos.errors import BadRequest, NotImplementedFeature
from urbanos.query.ast import Expand, OrderBy, Property, QueryOptions

KNOWN = {"$filter", "$expand", "$select", "$orderby", "$top", "$skip", "$count", "$resultformat", "$skiptoken", "$format"}


def _odata() -> Any:
    try:
        return importlib.import_module("urbanos.query.odata")
    except ModuleNotFoundError:
        return None


def parse(params: dict[str, str], *, max_top: int, default_top: int) -> QueryOptions:
    for k in params:
        if k.startswith("$") and k.lower() not in KNOWN:
            raise BadRequest(f"Unknown query option {k!r}.")
    mod = _odata()
    if mod is not None and hasattr(mod, "parse_query"):
        clean = {k: v for k, v in params.items() if k.lower() not in ("$skiptoken", "$format")}
        opts: QueryOptions = mod.parse_query(clean, max_top=max_top, default_top=default_top)
        return opts
    return _reduced(params, max_top=max_top, default_top=default_top)


def _int(name: str, raw: str) -> int:
    try:
        v = int(raw.strip())
    except ValueError:
        raise BadRequest(f"{name} must be a non-negative integer, not {raw!r}.") from None
    if v < 0:
        raise BadRequest(f"{name} must be a non-negative integer, not {raw!r}.")
    return v


def _split(text: str, sep: str) -> list[str]:
    out, depth, cur, quote = [], 0, [], False
    for ch in text:
        if ch == "'":
            quote = not quote
        if not quote:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth < 0:
                    raise BadRequest(f"Unbalanced parentheses in {text!r}.")
        if ch == sep and depth == 0 and not quote:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth != 0:
        raise BadRequest(f"Unbalanced parentheses in {text!r}.")
    out.append("".join(cur))
    return out


def _reduced(params: dict[str, str], *, max_top: int, default_top: int) -> QueryOptions:
    p = {k.lower(): v for k, v in params.items()}
    if "$filter" in p:
        raise NotImplementedFeature("$filter needs the OData expression parser, which is not installed.")
    top = _int("$top", p["$top"]) if "$top" in p else default_top
    top = min(top, max_top)
    skip = _int("$skip", p["$skip"]) if "$skip" in p else 0
    count = None
    if "$count" in p:
        c = p["$count"].strip().lower()
        if c not in ("true", "false"):
            raise BadRequest(f"$count must be true or false, not {p['$count']!r}.")
        count = c == "true"
    select = None
    if "$select" in p:
        select = tuple(tuple(s.strip().split("/")) for s in p["$select"].split(",") if s.strip())
        if not select:
            raise BadRequest("$select is empty.")
    orderby: list[OrderBy] = []
    if "$orderby" in p:
        for item in p["$orderby"].split(","):
            words = item.split()
            if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
                raise BadRequest(f"$orderby item {item!r} is not 'property [asc|desc]'.")
            orderby.append(OrderBy(Property(tuple(words[0].split("/"))), len(words) == 2 and words[1].lower() == "desc"))
    expand: list[Expand] = []
    if "$expand" in p:
        for item in _split(p["$expand"], ","):
            item = item.strip()
            if not item:
                raise BadRequest("$expand has an empty item.")
            inner: dict[str, str] = {}
            if "(" in item:
                if not item.endswith(")"):
                    raise BadRequest(f"$expand item {item!r} is malformed.")
                head, body = item[: item.index("(")], item[item.index("(") + 1 : -1]
                for part in _split(body, ";"):
                    if not part.strip():
                        continue
                    k, eq, v = part.partition("=")
                    if not eq:
                        raise BadRequest(f"$expand option {part!r} is malformed.")
                    inner[k.strip()] = v
                item = head
            expand.append(Expand(tuple(item.split("/")), _reduced(inner, max_top=max_top, default_top=default_top)))
    rf = p.get("$resultformat")
    return QueryOptions(filter=None, orderby=tuple(orderby), select=select, expand=tuple(expand), top=top, skip=skip,
                        count=count, result_format=rf)


__all__ = ["parse"]
