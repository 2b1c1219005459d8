"""Streaming GeoJSON: the top-level members of a document and the elements of its ``features`` array, one at
a time, from a binary file read in chunks.

Memory stays bounded by the chunk size plus the largest single feature (or other top-level member): a small
scanner finds where each value ends (it follows strings, escapes and bracket depth; regular expressions do
the byte-level work), and orjson decodes that value's bytes. The structure between values (the top-level
object, the ``features`` array, commas, colons, whitespace) is checked here; everything inside a value is
checked by orjson, so a document is accepted exactly when ``orjson.loads`` accepts it.

Pure: no database, no urbanos imports. Errors are :class:`GeoJSONSyntaxError` with the byte offset, line and
column of the fault; the reader turns them into ``ValidationFailed``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

import orjson

CHUNK = 1 << 20

# Outside strings: a run of bytes that are neither brackets nor quotes, or a whole string (escapes included).
# It stops at a bracket, at the end of the buffer, or at a string that is not closed within the buffer.
_RUN = re.compile(rb'(?:[^"\[\]{}]++|"[^"\\]*+(?:\\.[^"\\]*+)*+")*+', re.DOTALL)
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_SCALAR = re.compile(rb'[^ \t\n\r,:\[\]{}"]*+')
_WS = re.compile(rb"[ \t\n\r]*+")
# Where an object element might end: "}" before the "," and "{" of the next element, or before the "]".
_CUT = re.compile(rb"\}[ \t\n\r]*+(?:,[ \t\n\r]*+\{|\])")
_OPEN, _QUOTE = frozenset(b"[{"), ord('"')
_COMMA, _COLON = ord(","), ord(":")
_LBRACE, _RBRACE, _LBRACKET, _RBRACKET = ord("{"), ord("}"), ord("["), ord("]")

# Events of :func:`events`.
MEMBER = "member"  # (MEMBER, (key, value)): a top-level member other than an array-valued "features"
FEATURES = "features"  # (FEATURES, None): an array-valued "features" member starts (a later one replaces it)
FEATURE = "feature"  # (FEATURE, element): one element of that array
NOT_OBJECT = "not_object"  # (NOT_OBJECT, None): the (valid) document is not a JSON object


class GeoJSONSyntaxError(ValueError):
    """The bytes are not one valid JSON document; ``pos`` is the byte offset of the fault."""

    def __init__(self, reason: str, pos: int, line: int, column: int) -> None:
        super().__init__(f"{reason} at line {line}, column {column}, byte {pos}")
        self.reason, self.pos, self.line, self.column = reason, pos, line, column


class _Scanner:
    """A byte buffer over a file: ``buf[pos:]`` is unread; ``base`` is the file offset of ``buf[0]``."""

    def __init__(self, fh: IO[bytes], chunk_size: int) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.fh, self.chunk_size = fh, chunk_size
        self.buf = bytearray()
        self.pos = 0
        self.base = 0
        self.eof = False
        self.lines = 0  # newlines in the bytes dropped from the buffer
        self.line_start = 0  # file offset just after the last dropped newline
        self.slow_until = 0  # file offset before which elements are found one at a time (see _batch)

    def fill(self) -> int:
        """Read one more chunk; returns how far ``buf`` indices moved down (bytes dropped), or -1 at the end."""
        if self.eof:
            return -1
        chunk = self.fh.read(self.chunk_size)
        if not chunk:
            self.eof = True
            return -1
        drop = 0
        if self.pos and self.pos * 2 >= len(self.buf):  # drop what was read once it is half the buffer
            drop = self.pos
            nl = self.buf.count(b"\n", 0, drop)
            if nl:
                self.lines += nl
                self.line_start = self.base + self.buf.rindex(b"\n", 0, drop) + 1
            del self.buf[:drop]
            self.base += drop
            self.pos = 0
        self.buf += chunk
        return drop

    def error(self, reason: str, at: int, offset: int = 0) -> GeoJSONSyntaxError:
        """An error at buffer index ``at + offset`` (at or after ``pos``, or just past the end of the buffer)."""
        at += offset
        nl = self.buf.count(b"\n", 0, at)
        line = self.lines + nl + 1
        start = self.base + self.buf.rindex(b"\n", 0, at) + 1 if nl else self.line_start
        pos = self.base + at
        return GeoJSONSyntaxError(reason, pos, line, pos - start + 1)

    def peek(self) -> int | None:
        """Skip whitespace; the next byte (not consumed), or None at the end of the file."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if self.fill() < 0:
                return None

    def expect(self, byte: int, what: str) -> None:
        c = self.peek()
        if c != byte:
            raise self.error(f"expected {what}" if c is not None else f"unexpected end of data, expected {what}",
                             self.pos)
        self.pos += 1

    def value(self) -> Any:
        """Decode the next value (after whitespace) and consume it."""
        c = self.peek()
        if c is None:
            raise self.error("unexpected end of data, expected a value", self.pos)
        if c in _OPEN:
            end = self._compound_end()
        elif c == _QUOTE:
            end = self._string_end()
        else:
            end = self._scalar_end()
        start = self.pos  # filling the buffer may move it; pos still marks the value's first byte
        raw = self.buf[start:end]
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise self.error(*_reason(exc, raw), start) from None
        self.pos = end
        return obj

    def _compound_end(self) -> int:
        depth = 0
        p = self.pos
        while True:
            p = _RUN.match(self.buf, p).end()  # type: ignore[union-attr]
            if p >= len(self.buf) or self.buf[p] == _QUOTE:  # needs more bytes (end of buffer or open string)
                moved = self.fill()
                if moved < 0:
                    raise self.error("unexpected end of data inside a value", len(self.buf))
                p -= moved
                continue
            if self.buf[p] in _OPEN:
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    return p + 1
            p += 1

    def _string_end(self) -> int:
        while True:
            m = _STRING.match(self.buf, self.pos)
            if m:
                return m.end()
            if self.fill() < 0:
                raise self.error("unexpected end of data inside a string", len(self.buf))

    def _scalar_end(self) -> int:
        while True:
            end = _SCALAR.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if end < len(self.buf) or self.fill() < 0:
                if end == self.pos:
                    raise self.error("expected a value", self.pos)
                return end

    def array(self) -> Iterator[Any]:
        """The elements of the array that starts at ``pos``, decoded one at a time."""
        self.expect(_LBRACKET, "'['")
        if self.peek() == _RBRACKET:
            self.pos += 1
            return
        while True:
            batch = self._batch() if self.base + self.pos >= self.slow_until else None
            if batch is not None:
                yield from batch
            else:
                yield self.value()
            if self.closed_after(_RBRACKET, "an array element"):
                return

    def closed_after(self, close: int, what: str) -> bool:
        """After an element of an array or object: True at its closing bracket (consumed), False at a comma
        (consumed); anything else is an error."""
        c = self.peek()
        if c == _COMMA or c == close:
            self.pos += 1
            return c == close
        want = f"',' or '{chr(close)}'"
        raise self.error(f"expected {want} after {what}" if c is not None else f"unexpected end of data, expected {want}",
                         self.pos)

    def _batch(self) -> list[Any] | None:
        """Fast path: the object elements that fill the buffer from ``pos``, decoded by one orjson call.

        A cut is tried after a "}" that looks like an element's end; ``"[" + bytes + "]"`` parses only when
        the cut really ends an element (JSON is read left to right in one way only, so the bytes from an
        element's start cannot parse as complete elements otherwise), and then the elements are exactly
        those of the document. When no cut parses (a nested "}" looked like an end, or the bytes are not
        valid), the elements up to the end of the buffer are found one at a time, which also places errors.
        """
        if self.peek() != _LBRACE:
            return None
        buf, start = self.buf, self.pos
        hi, tries, looked = len(buf), 0, 0
        while tries < 3 and looked < 64:
            k = buf.rfind(b"}", start, hi)
            if k < 0:
                break
            looked += 1
            hi = k
            if not _CUT.match(buf, k):
                continue
            tries += 1
            try:
                items = orjson.loads(b"[" + buf[start : k + 1] + b"]")
            except orjson.JSONDecodeError:
                continue
            self.pos = k + 1
            return items  # type: ignore[no-any-return]
        self.slow_until = self.base + len(buf)
        return None

    def end(self) -> None:
        if self.peek() is not None:
            raise self.error("unexpected content after the document", self.pos)


def _reason(exc: orjson.JSONDecodeError, raw: bytearray) -> tuple[str, int]:
    """orjson's reason for rejecting ``raw`` and the byte offset in ``raw`` it points at (orjson counts
    characters; invalid UTF-8 is placed at its first bad byte)."""
    reason = str(getattr(exc, "msg", "") or exc).split(": line ")[0] or "invalid JSON value"
    try:
        text = raw.decode()
    except UnicodeDecodeError as bad:
        return "invalid UTF-8", bad.start
    return reason, min(len(text[: int(exc.pos)].encode()), len(raw))


def events(fh: IO[bytes], chunk_size: int = CHUNK, decode_members: bool = True) -> Iterator[tuple[str, Any]]:
    """The document in ``fh`` as a stream of events (see the constants above), ending only after the whole
    document has been checked. Raises :class:`GeoJSONSyntaxError` at the first fault (events already
    yielded came from the valid part before it). ``decode_members=False`` yields members with value None
    (they are still checked)."""
    sc = _Scanner(fh, chunk_size)
    c = sc.peek()
    if c is None:
        raise sc.error("the document is empty", sc.pos)
    if c != _LBRACE:
        if c == _LBRACKET:
            for _ in sc.array():
                pass
        else:
            sc.value()
        sc.end()
        yield NOT_OBJECT, None
        return
    sc.pos += 1
    c = sc.peek()
    if c == _RBRACE:
        sc.pos += 1
    else:
        while True:
            if sc.peek() != _QUOTE:
                raise sc.error("expected a member name in quotes" if sc.peek() is not None
                               else "unexpected end of data, expected a member name", sc.pos)
            key = sc.value()
            sc.expect(_COLON, "':' after a member name")
            if key == "features" and sc.peek() == _LBRACKET:
                yield FEATURES, None
                for element in sc.array():
                    yield FEATURE, element
            else:
                value = sc.value()
                yield MEMBER, (key, value if decode_members else None)
            if sc.closed_after(_RBRACE, "a member"):
                break
    sc.end()


def iter_features(fh: IO[bytes], chunk_size: int = CHUNK) -> Iterator[Any]:
    """The elements of a FeatureCollection's ``features`` array, one at a time (a document with more than one
    ``features`` member yields the elements of each)."""
    for kind, value in events(fh, chunk_size, decode_members=False):
        if kind == FEATURE:
            yield value


def load(fh: IO[bytes], chunk_size: int = CHUNK) -> Any:
    """The whole document, rebuilt from :func:`events` (as ``orjson.loads`` would give it; for tests).
    A non-object document is only checked, not rebuilt: it gives None."""
    doc: dict[str, Any] = {}
    for kind, value in events(fh, chunk_size):
        if kind == NOT_OBJECT:
            return None
        if kind == MEMBER:
            doc[value[0]] = value[1]
        elif kind == FEATURES:
            doc["features"] = features = []
        elif kind == FEATURE:
            features.append(value)
    return doc


__all__ = ["CHUNK", "GeoJSONSyntaxError", "events", "iter_features", "load", "MEMBER", "FEATURES", "FEATURE",
           "NOT_OBJECT"]
