"""Arguments of the DataStore actions as CKAN sends them (JSON bodies and GET strings), and CKAN's type names.

Every bad value is a ``ValidationFailed`` naming the argument, which the Action API answers in CKAN's envelope.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.core.ids import parse_id
from urbanos.core.numbers import parse_int
from urbanos.errors import ValidationFailed
from urbanos.features import store

if TYPE_CHECKING:
    from urbanos.platform import Platform

CKAN_TYPES = {"string": "text", "integer": "int", "number": "numeric", "boolean": "bool", "date": "date",
              "datetime": "timestamp", "json": "json"}
FROM_CKAN = {"text": "string", "varchar": "string", "char": "string", "string": "string", "int": "integer",
             "int4": "integer", "int8": "integer", "integer": "integer", "bigint": "integer", "smallint": "integer",
             "numeric": "number", "float": "number", "float4": "number", "float8": "number", "double precision": "number",
             "number": "number", "bool": "boolean", "boolean": "boolean", "timestamp": "datetime",
             "timestamptz": "datetime", "datetime": "datetime", "date": "date", "json": "json", "jsonb": "json",
             "nested": "json", "_text": "json", "_int4": "json", "_numeric": "json"}
TEXTUAL = ("string", "date", "datetime", "json")


def setting(platform: Platform, name: str, default: Any) -> Any:
    """The setting ``name``, or ``default`` when it is unset (or registered by a capability that is not installed)."""
    value = platform.settings.get(name)
    return default if value is None else value


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", detail={field: [message]})


def resource_id_arg(data: dict[str, Any]) -> str:
    rid = data.get("resource_id", data.get("id"))
    if rid is None or rid == "":
        raise invalid("resource_id", "Missing value")
    if not isinstance(rid, str):
        raise invalid("resource_id", "Must be a string")
    return rid


def json_arg(data: dict[str, Any], name: str) -> Any:
    v = data.get(name)
    if isinstance(v, str) and name in ("filters", "records", "fields") and v.strip()[:1] in ("{", "["):
        try:
            return orjson.loads(v)
        except orjson.JSONDecodeError:
            raise invalid(name, "Not valid JSON") from None
    return v


def int_arg(data: dict[str, Any], name: str, default: int, maximum: int | None = None) -> int:
    v = data.get(name, default)
    if v is None or v == "":
        return default
    try:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError
        if isinstance(v, str):  # ASCII digits only (int() also reads "١٢"), an optional minus sign
            s = v.strip()
            parsed = parse_id(s[1:] if s.startswith("-") else s)
            if parsed is None:
                raise ValueError
            n = -parsed if s.startswith("-") else parsed
        else:
            n = int(v)
    except (TypeError, ValueError, OverflowError):
        raise invalid(name, "Invalid integer") from None
    if n < 0:
        raise invalid(name, "Must be a natural number")
    return min(n, maximum) if maximum is not None else n


def bool_arg(data: dict[str, Any], name: str, default: bool) -> bool:
    v = data.get(name, default)
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(v, str) and v.lower() in ("false", "0", "no", "off", ""):
        return False
    if isinstance(v, int):
        return bool(v)
    raise invalid(name, "Must be true or false")


def names_arg(value: Any, name: str) -> list[str] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return [s.strip().strip('"') for s in value.split(",") if s.strip()]
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return list(value)
    raise invalid(name, "Must be a list of field names or a comma-separated string")


def row_id(value: Any) -> int | None:
    """A record's ``_id`` (a JSON integer, or text of ASCII digits), or None."""
    if isinstance(value, str):
        return parse_id(value)
    return parse_int(value, lo=0)


def field_map(meta: store.CollectionMeta) -> dict[str, str]:
    """Field names (and ``_id``) to the columns of the data table."""
    cols = {"_id": "fid"}
    cols.update({f.name: f.column for f in meta.fields})
    return cols


def fields_out(meta: store.CollectionMeta, names: Sequence[str]) -> list[dict[str, str]]:
    types = {f.name: CKAN_TYPES[f.type] for f in meta.fields}
    return [{"id": n, "type": "int" if n == "_id" else types[n]} for n in names]


def sort_arg(value: Any, cols: dict[str, str]) -> list[tuple[str, bool]]:
    if value is None or value == "" or value == []:
        return []
    parts = value if isinstance(value, list) else str(value).split(",")
    out: list[tuple[str, bool]] = []
    for raw in parts:
        text = str(raw).strip()
        asc = True
        low = text.lower()
        if low.endswith(" desc"):
            asc, text = False, text[:-5].strip()
        elif low.endswith(" asc"):
            text = text[:-4].strip()
        name = text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text
        if name not in cols:
            raise invalid("sort", f'field "{name}" not in table')
        out.append((cols[name], asc))
    return out


def guess_type(values: list[Any]) -> str:
    """The field type of JSON values (records of datastore_create, columns of datastore_search_sql)."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return "string"
    if kinds <= {int}:
        return "integer"
    if kinds <= {int, float}:
        return "number"
    if kinds <= {bool}:
        return "boolean"
    if kinds & {dict, list}:
        return "json"
    return "string"


__all__ = ["CKAN_TYPES", "FROM_CKAN", "TEXTUAL", "setting", "invalid", "resource_id_arg", "json_arg", "int_arg",
           "bool_arg", "names_arg", "row_id", "field_map", "fields_out", "sort_arg", "guess_type"]
