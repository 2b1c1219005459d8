"""The hash chain of the audit log: the canonical form of an entry, its hash, and the proof of a stored chain.

An entry's hash is SHA-256 (hex) over the canonical JSON text of ``[seq, at, actor, action, object_kind, object_id,
dataset, org, path, row_count, details, prev_hash]``: keys sorted, no spaces, UTF-8. ``prev_hash`` is the hash of the
entry before it (64 zeros before the first), so changing, removing or reordering any stored entry breaks every hash
after it; the head row (last seq and hash) catches a removed tail."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from urbanos.storage import Connection

FIELDS = ("seq", "at", "actor", "action", "object_kind", "object_id", "dataset", "org", "path", "row_count",
          "details", "prev_hash", "hash")
COLUMNS = ", ".join(FIELDS)


def canonical(value: Any) -> str:
    """The one text form the hash is computed over (also how ``details`` is stored): JSON with sorted keys, no
    spaces, UTF-8 text as is."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def entry_hash(entry: dict[str, Any], prev_hash: str) -> str:
    """The hash of ``entry`` (a dict with the fields above; ``details`` as a dict) chained to ``prev_hash``."""
    body = [entry["seq"], entry["at"], entry["actor"], entry["action"], entry["object_kind"], entry["object_id"],
            entry.get("dataset"), entry.get("org"), entry.get("path"), entry.get("row_count"), entry["details"],
            prev_hash]
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def row_entry(row: tuple[Any, ...]) -> dict[str, Any]:
    """A stored row (``COLUMNS`` order) as an entry dict, ``details`` parsed (unparseable text stays text)."""
    e = dict(zip(FIELDS, row, strict=True))
    e["seq"] = int(e["seq"])
    if e["row_count"] is not None:
        e["row_count"] = int(e["row_count"])
    try:
        e["details"] = json.loads(e["details"])
    except (TypeError, ValueError):
        pass
    return e


@dataclass(frozen=True)
class Verdict:
    """The result of :func:`verify`: ``ok``, how many entries were checked, and the first broken entry."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} entries verified"
        return f"audit chain broken at entry {self.broken_seq}: {self.problem} ({self.checked} entries before it verified)"


def _rows(c: Connection, page: int) -> Iterator[tuple[Any, ...]]:
    last = 0
    while True:
        rows = c.fetchall(f"SELECT {COLUMNS} FROM privacy_audit_log WHERE seq > ? ORDER BY seq LIMIT ?", (last, page))
        if not rows:
            return
        yield from rows
        last = int(rows[-1][0])


def verify(c: Connection, genesis: str, page: int = 5000) -> Verdict:
    """Prove the stored chain: sequence numbers without gaps from 1, each ``prev_hash`` the hash of the entry before,
    each ``hash`` the hash of its entry's content, and the head row at the last entry. Names the first break."""
    expect_seq, prev, checked = 1, genesis, 0
    for row in _rows(c, page):
        e = row_entry(row)
        seq = e["seq"]
        if seq != expect_seq:
            missing = f"entry {expect_seq}" if seq == expect_seq + 1 else f"entries {expect_seq} to {seq - 1}"
            return Verdict(False, checked, expect_seq, f"{missing} missing (the next stored entry is {seq})")
        if e["prev_hash"] != prev:
            return Verdict(False, checked, seq, f"prev_hash {e['prev_hash']!r} differs from the hash of the entry "
                           f"before it ({prev!r})")
        again = entry_hash(e, prev)
        if again != e["hash"]:
            return Verdict(False, checked, seq, f"content differs from what was hashed: stored hash {e['hash']!r}, "
                           f"hash of the stored content {again!r} (a field of this entry was changed)")
        prev, expect_seq, checked = e["hash"], seq + 1, checked + 1
    head = c.fetchone("SELECT seq, hash FROM privacy_audit_head WHERE id = 1")
    if head is None:
        return Verdict(False, checked, None, "the head row is missing")
    if int(head[0]) != expect_seq - 1 or head[1] != prev:
        return Verdict(False, checked, expect_seq, f"entries {expect_seq} to {int(head[0])} missing: the head records "
                       f"entry {int(head[0])} with hash {head[1]!r}, the log ends at entry {expect_seq - 1}")
    return Verdict(True, checked)


__all__ = ["FIELDS", "COLUMNS", "canonical", "entry_hash", "row_entry", "Verdict", "verify"]
