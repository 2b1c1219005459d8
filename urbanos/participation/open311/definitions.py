"""Service definitions (GeoReport v2 ``services`` and ``services/{code}``) and the values of their attributes.

A service as stewards write it (``POST /open311/v2/services.json``) is the service list's fields (``service_code``,
``service_name``, ``description``, ``type``, ``keywords``, ``group``), the owning ``organization`` and the
definition's ``attributes``; ``metadata`` is true exactly when it has attributes."""

from __future__ import annotations

import math
import re
from typing import Any

from urbanos.core.time import parse_utc
from urbanos.errors import ValidationFailed

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
TYPES = ("realtime", "batch", "blackbox")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STRING_MAX = 1000
TEXT_MAX = 4000
MAX_ATTRIBUTES = 50
MAX_VALUES = 200


def _text(body: dict[str, Any], key: str, errors: list[str], *, required: bool = False, limit: int = 1000) -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            errors.append(f"{key}: required.")
        return ""
    if not isinstance(value, str):
        errors.append(f"{key}: must be text.")
        return ""
    if len(value) > limit or "\x00" in value:
        errors.append(f"{key}: at most {limit} characters, no NUL.")
        return ""
    return value


def _flag(value: Any, key: str, default: bool, errors: list[str]) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        errors.append(f"{key}: must be true or false.")
        return default
    return value


def _values(attr: dict[str, Any], where: str, errors: list[str]) -> list[dict[str, str]]:
    values = attr.get("values")
    if attr.get("datatype") not in ("singlevaluelist", "multivaluelist"):
        if values not in (None, []):
            errors.append(f"{where}.values: only list datatypes have values.")
        return []
    if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
        errors.append(f"{where}.values: a list of 1 to {MAX_VALUES} {{key, name}} objects is required.")
        return []
    out: list[dict[str, str]] = []
    for i, v in enumerate(values):
        key = v.get("key") if isinstance(v, dict) else None
        name = v.get("name") if isinstance(v, dict) else None
        if isinstance(key, bool) or not isinstance(key, (str, int)) or not isinstance(name, str) or not str(key):
            errors.append(f"{where}.values[{i}]: needs a key (text or integer) and a name (text).")
            continue
        out.append({"key": str(key)[:200], "name": name[:500]})
    if len({v["key"] for v in out}) != len(out):
        errors.append(f"{where}.values: keys must be unique.")
    return out


def _attribute(attr: Any, i: int, errors: list[str]) -> dict[str, Any] | None:
    where = f"attributes[{i}]"
    if not isinstance(attr, dict):
        errors.append(f"{where}: must be an object.")
        return None
    code = attr.get("code")
    if not isinstance(code, str) or not CODE.match(code):
        errors.append(f"{where}.code: letters, digits, '_', '.', '-' (1 to 64).")
    datatype = attr.get("datatype")
    if datatype not in DATATYPES:
        errors.append(f"{where}.datatype: one of {', '.join(DATATYPES)}.")
    order = attr.get("order", i + 1)
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 10000:
        errors.append(f"{where}.order: an integer from 0 to 10000.")
        order = i + 1
    return {"variable": _flag(attr.get("variable"), f"{where}.variable", True, errors), "code": code,
            "datatype": datatype, "required": _flag(attr.get("required"), f"{where}.required", False, errors),
            "datatype_description": _text(attr, "datatype_description", errors) or None, "order": order,
            "description": _text(attr, "description", errors, required=True),
            "values": _values(attr, where, errors)}


def validate_service(body: Any) -> dict[str, Any]:
    """A service as stored, or ValidationFailed listing every problem (``detail['errors']``)."""
    if not isinstance(body, dict):
        raise ValidationFailed("The service must be a JSON object.")
    errors: list[str] = []
    known = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group", "organization",
             "attributes", "sensitive"}
    errors += [f"{k}: unknown field." for k in body if k not in known][:10]
    code = body.get("service_code")
    if not isinstance(code, str) or not CODE.match(code):
        errors.append("service_code: letters, digits, '_', '.', '-' (1 to 64), starting with a letter or digit.")
    kind = body.get("type", "realtime")
    if kind not in TYPES:
        errors.append(f"type: one of {', '.join(TYPES)}.")
    attrs = body.get("attributes", [])
    if not isinstance(attrs, list) or len(attrs) > MAX_ATTRIBUTES:
        errors.append(f"attributes: a list of at most {MAX_ATTRIBUTES} attributes.")
        attrs = []
    parsed = [p for p in (_attribute(a, i, errors) for i, a in enumerate(attrs)) if p is not None]
    if len({a["code"] for a in parsed}) != len(parsed):
        errors.append("attributes: codes must be unique.")
    org = body.get("organization")
    if org is not None and (not isinstance(org, str) or not org):
        errors.append("organization: the name of an organisation, or null.")
    service = {"code": code, "name": _text(body, "service_name", errors, required=True, limit=200),
               "description": _text(body, "description", errors, limit=TEXT_MAX), "type": kind,
               "keywords": _text(body, "keywords", errors), "group": _text(body, "group", errors, limit=200),
               "owner_org": org, "attributes": sorted(parsed, key=lambda a: a["order"]),
               "sensitive": _flag(body.get("sensitive"), "sensitive", False, errors)}
    if errors:
        raise ValidationFailed(f"The service is not valid: {errors[0]}", detail={"errors": errors})
    return service


def service_entry(s: dict[str, Any]) -> dict[str, Any]:
    """A service in the ``services`` list (with ``organization``, the owner, and ``sensitive``: its requests'
    descriptions are left out of the open dataset, beside the spec's fields)."""
    return {"service_code": s["code"], "service_name": s["name"], "description": s["description"],
            "metadata": bool(s["attributes"]), "type": s["type"], "keywords": s["keywords"], "group": s["group"],
            "organization": s["owner_org"], "sensitive": bool(s.get("sensitive"))}


def definition(s: dict[str, Any]) -> dict[str, Any]:
    """``services/{code}``: the service definition with its attributes."""
    return {"service_code": s["code"], "attributes": [
        {**{k: a[k] for k in ("variable", "code", "datatype", "required", "datatype_description", "order",
                              "description")}, **({"values": a["values"]} if a["values"] else {})}
        for a in s["attributes"]]}


def _one(a: dict[str, Any], raw: str, errors: list[str]) -> Any:
    code, kind = a["code"], a["datatype"]
    if kind == "number":
        try:
            num = float(raw)
        except ValueError:
            num = math.nan
        if not math.isfinite(num) or not raw.isascii():
            errors.append(f"attribute[{code}]: a number is expected, got {raw[:40]!r}.")
        return num
    if kind == "datetime":
        try:
            return parse_utc(raw).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (ValueError, OverflowError):
            errors.append(f"attribute[{code}]: an ISO 8601 date-time is expected, got {raw[:40]!r}.")
            return raw
    if kind in ("singlevaluelist", "multivaluelist"):
        if raw not in {v["key"] for v in a["values"]}:
            errors.append(f"attribute[{code}]: {raw[:40]!r} is not one of the keys of its values.")
        return raw
    limit = TEXT_MAX if kind == "text" else STRING_MAX
    if len(raw) > limit:
        errors.append(f"attribute[{code}]: at most {limit} characters.")
    return raw


def check_attributes(service: dict[str, Any], given: dict[str, list[str]], multi: set[str],
                     errors: list[str]) -> dict[str, Any]:
    """The values of ``attribute[code]`` (and ``attribute[code][]``: codes in ``multi``) checked against the
    definition; problems are appended to ``errors``."""
    by_code = {a["code"]: a for a in service["attributes"] if a["variable"]}
    out: dict[str, Any] = {}
    for code, raws in given.items():
        a = by_code.get(code)
        if a is None:
            errors.append(f"attribute[{code[:40]}]: the service has no such attribute.")
            continue
        raws = [r for r in raws if r != ""]
        if not raws:
            continue
        if a["datatype"] == "multivaluelist":
            out[code] = [_one(a, r, errors) for r in raws]
        elif len(raws) > 1 or code in multi:
            errors.append(f"attribute[{code}]: takes one value ({a['datatype']}).")
        else:
            out[code] = _one(a, raws[0], errors)
    for code, a in by_code.items():
        if a["required"] and code not in out:
            errors.append(f"attribute[{code}]: required.")
    return out


__all__ = ["DATATYPES", "TYPES", "validate_service", "service_entry", "definition", "check_attributes"]
