"""Query options: the shared OData parser (``urbanos.query.odata``) turns the query string into a
:class:`~urbanos.query.ast.QueryOptions`; an unknown ``$`` option is a 400."""

from __future__ import annotations

from urbanos.errors import BadRequest
from urbanos.query.ast import QueryOptions
from urbanos.query.odata import parse_query

KNOWN = {"$filter", "$expand", "$select", "$orderby", "$top", "$skip", "$count", "$resultformat", "$skiptoken", "$format"}


def parse(params: dict[str, str], *, max_top: int, default_top: int) -> QueryOptions:
    for k in params:
        if k.startswith("$") and k.lower() not in KNOWN:
            raise BadRequest(f"Unknown query option {k!r}.")
    clean = {k: v for k, v in params.items() if k.lower() not in ("$skiptoken", "$format")}
    return parse_query(clean, max_top=max_top, default_top=default_top)


__all__ = ["parse", "KNOWN"]
