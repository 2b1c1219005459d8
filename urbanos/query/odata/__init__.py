"""OData query options for the SensorThings API (OGC 18-088 / 15-078r6 subset of OData 4).

    >>> from urbanos.query.odata import parse_query
    >>> opts = parse_query({"$filter": "result gt 5 and Datastream/name eq 'air'", "$top": "10"})

Everything raises :class:`urbanos.errors.BadRequest` on bad input, naming the option and
the 1-based character position. See ``docs/query.md`` for the grammar.
"""

from __future__ import annotations

from urbanos.query.odata.options import parse_expand, parse_query, parse_select
from urbanos.query.odata.parser import FUNCTIONS, parse_filter, parse_orderby
from urbanos.query.odata.unparse import to_text

__all__ = ["parse_query", "parse_filter", "parse_orderby", "parse_select", "parse_expand", "FUNCTIONS", "to_text"]
