"""Making untrusted text inert where the platform writes it: JSON in an HTML page, links, spreadsheet cells.

* JSON inside ``<script>`` (a data block or code): the HTML parser ends a script element at ``</script``
  whatever the JSON means, and ``<!--`` changes how it looks for the end. :func:`json_for_script` writes
  ``<``, ``>`` and ``&`` as ``\\u003c``, ``\\u003e``, ``\\u0026`` (and U+2028, U+2029, line ends to old
  JavaScript), which is the same JSON to a JSON parser and never markup to the HTML parser.
* Links: :func:`safe_href` keeps relative URLs and the schemes http, https, mailto and ftp; anything else
  (``javascript:``, ``data:``, ``vbscript:`` and their disguises) becomes ``#``.
* Spreadsheet cells: :func:`spreadsheet_text` prefixes ``'`` to text that a spreadsheet would read as a formula
  (a first character ``=``, ``+``, ``-``, ``@``, tab or carriage return), as OWASP recommends for CSV
  injection. Text that is a plain number (``-3``, ``+1.5e3``) is left as it is; numbers stored as numbers are
  never text and never changed.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_SCRIPT_UNSAFE_RE = re.compile("[<>&\u2028\u2029]")


def escape_json_for_script(text: str) -> str:
    """JSON text made safe to place inside a ``<script>`` element (the characters above only occur in strings
    of valid JSON, where the escapes mean the same)."""
    return _SCRIPT_UNSAFE_RE.sub(lambda m: _SCRIPT_UNSAFE[m.group()], text)


def json_for_script(value: Any) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element."""
    return escape_json_for_script(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode())


_SAFE_SCHEMES = ("http", "https", "mailto", "ftp")
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]")  # browsers drop tabs and line ends inside URLs, and trim blanks


def safe_href(url: Any) -> str:
    """``url`` when it is relative or of a safe scheme, else ``#`` (for ``href`` attributes of stored links)."""
    if url is None:
        return "#"
    text = str(url)
    probe = _IGNORED_IN_URLS.sub("", text)
    match = _SCHEME_RE.match(probe)
    if match is None:
        # no scheme: a relative link, unless a colon before the first / ? # makes browsers read one
        head = re.split(r"[/?#]", probe, maxsplit=1)[0]
        return "#" if ":" in head else text
    return text if match.group(1).lower() in _SAFE_SCHEMES else "#"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def spreadsheet_text(text: str) -> str:
    """``text`` for a spreadsheet cell: a leading ``'`` when a spreadsheet would read it as a formula."""
    if text and text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def spreadsheet_value(value: Any) -> Any:
    """:func:`spreadsheet_text` for text; any other value (numbers, dates, None) unchanged."""
    return spreadsheet_text(value) if isinstance(value, str) else value


__all__ = ["escape_json_for_script", "json_for_script", "safe_href", "spreadsheet_text", "spreadsheet_value"]
