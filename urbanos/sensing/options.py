"""Query options: the shared OData parser (``urbanos.query.odata``) turns the query string into a
:class:`~urbanos.query.ast.QueryOptions`. A ``$`` option that is not one of the standard's (``$apply``, ``$search``
…) answers 501 Not Implemented, as OGC 18-088 asks of an unsupported query option; a parameter without ``$`` is
ignored."""

from __future__ import annotations

from urbanos.query.ast import QueryOptions
from urbanos.query.odata import parse_query
from urbanos.query.odata.options import unsupported

KNOWN = {"$filter", "$expand", "$select", "$orderby", "$top", "$skip", "$count", "$resultformat", "$skiptoken", "$format"}


def parse(params: dict[str, str], *, max_top: int, default_top: int) -> QueryOptions:
    for k in params:
        if k.startswith("$") and k.lower() not in KNOWN:
            raise unsupported(k)
    clean = {k: v for k, v in params.items() if k.lower() not in ("$skiptoken", "$format")}
    return parse_query(clean, max_top=max_top, default_top=default_top)


__all__ = ["parse", "KNOWN"]
