"""GeoReport v2's two formats: JSON, and XML with the spec's element names (``<services><service>``,
``<service_requests><request>``, ``<errors><error><code/><description/></error></errors>``)."""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape  # nosec B406 - escaping text we write; nothing is parsed

import orjson

from urbanos.errors import BadRequest, UrbanosError

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# the element of each item of a list, by the list's element
ITEM = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
        "values": "value", "endpoints": "endpoint", "formats": "format", "notes": "note"}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise BadRequest(f"Unknown format {fmt[:20]!r}: end the path with .json or .xml.")
    return fmt


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(_NOT_XML.sub("\ufffd", str(value)))


def _element(tag: str, value: Any, out: list[str]) -> None:
    if not _NAME.match(tag) or tag.lower().startswith("xml"):  # a key that is no XML name (an attribute code "12")
        inner: list[str] = []
        _element("item", value, inner)
        out.append(f'<item key="{_text(tag).replace(chr(34), "&quot;")}"' + "".join(inner)[len("<item"):])
        return
    if isinstance(value, dict):
        out.append(f"<{tag}>")
        for k, v in value.items():
            _element(str(k), v, out)
        out.append(f"</{tag}>")
    elif isinstance(value, list):
        out.append(f"<{tag}>")
        item = ITEM.get(tag, "item")
        for v in value:
            _element(item, v, out)
        out.append(f"</{tag}>")
    elif value is None:
        out.append(f"<{tag}/>")
    else:
        out.append(f"<{tag}>{_text(value)}</{tag}>")


def to_xml(root: str, value: Any) -> bytes:
    out = ['<?xml version="1.0" encoding="utf-8"?>']
    _element(root, value, out)
    return "".join(out).encode()


def encode(fmt: str, root: str, value: Any) -> bytes:
    """``value`` (a list for ``services``, ``service_requests``, ``errors``; a dict for a definition or discovery)
    in format ``fmt``; ``root`` is the XML document element."""
    if fmt == "xml":
        return to_xml(root, value)
    return orjson.dumps(value)


def error_list(exc: UrbanosError) -> list[dict[str, Any]]:
    """The spec's list of ``{code, description}``: one entry per field problem when the error names several."""
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    problems = detail.get("errors")
    if isinstance(problems, list) and problems:
        return [{"code": exc.status, "description": str(p)} for p in problems]
    return [{"code": exc.status, "description": exc.message}]


__all__ = ["FORMATS", "check_format", "encode", "to_xml", "error_list"]
