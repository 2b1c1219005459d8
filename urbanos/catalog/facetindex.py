"""An in-memory facet index of the catalogue, one per process, kept at the catalogue version a search reads.

Counting facets in SQL means grouping every facet row of every matched dataset on each search (about
70,000 rows at 10,000 datasets). Here each dataset has a position; organisation and access level are
int-coded arrays over the positions, and every field of ``catalog_facets`` is a pair of arrays
(position, value code). A search turns its matched datasets into a boolean mask over the positions, and
one ``np.bincount`` per field counts the values of the masked rows.

The index never decides access. The mask of datasets a caller may see is read through the gate's own
SQL filter (``Gate.dataset_row_filter``) and kept per caller for the index's version only. The matches
of ``q``, ``fq`` or a bounding box are read from the database and intersected with that mask, so a
dataset outside the caller's mask never reaches a count, a facet or a page.

The version is the catalogue's change counter (``catalog_version.n``, migration 2 of the catalogue):
triggers add one to it on every committed change of ``datasets`` or ``dataset_grants``, and record in
``catalog_changes`` the number of each dataset's last change. Every catalogue write that changes a facet
also writes its ``datasets`` row (the indexer keeps ``catalog_meta.indexed_at`` equal to its
``modified_at``), so a changed version is a complete signal. The numbers follow commit order on both
back ends (on PostgreSQL the triggers run at commit, holding the counter's row lock until the commit
ends), so a change can never hide behind a later one. The version is read inside the search's own read
transaction, so the index and the SQL parts of a search describe the same snapshot on SQLite.

When the version moves, the newest index is brought up to date from the datasets whose last change is
newer than it (``FacetIndex.updated``); it is built from scratch at first use, after a purge, or after
large changes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from urbanos.catalog.uuids import DATASET_UUID_SQL
from urbanos.storage import Connection

VERSION_SQL = "SELECT n FROM catalog_version WHERE id = 1"
_MAX_MASKS = 256
SORT_COLUMNS = ("d.modified_at", "d.created_at", "d.name", "d.title", "d.id", DATASET_UUID_SQL)


def catalogue_version(c: Connection) -> tuple[Any, ...]:
    """The catalogue's change counter, as a one-element tuple (the key of indexes and cached searches)."""
    return tuple(c.fetchone(VERSION_SQL) or ())


def _id_list_sql(c: Connection, column: str) -> str:
    """Aggregate of the ids in a group as one comma-joined text."""
    if c.dialect.name == "sqlite":
        return f"group_concat({column}, ',')"
    return f"string_agg(CAST({column} AS TEXT), ',')"


def _ids(text: str | None) -> np.ndarray:
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.array(text.split(","), dtype=np.int64)


class _Codes:
    """Values of one column, coded as small integers in order of first sight."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.code: dict[str, int] = {}

    @classmethod
    def of(cls, values: list[str]) -> _Codes:
        """A copy that goes on from these values (the original list is left as it is)."""
        out = cls()
        out.values = list(values)
        out.code = {v: i for i, v in enumerate(values)}
        return out

    def __call__(self, value: str) -> int:
        found = self.code.get(value)
        if found is None:
            found = self.code[value] = len(self.values)
            self.values.append(value)
        return found


@dataclass
class _Field:
    rows: np.ndarray  # position of the dataset of each facet row
    codes: np.ndarray  # value code of each facet row
    values: list[str]


@dataclass
class FacetIndex:
    version: tuple[Any, ...]
    ids: np.ndarray  # dataset id at each position
    pos: np.ndarray  # position of each dataset id (-1: no such dataset)
    active: np.ndarray  # state = 'active'
    level: np.ndarray  # access level code
    levels: list[str]
    org: np.ndarray  # owner_org code, -1 for none
    orgs: list[str]
    fields: dict[str, _Field]
    _masks: OrderedDict[Hashable, np.ndarray] = field(default_factory=OrderedDict)
    _ranks: dict[str, np.ndarray] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, c: Connection, version: tuple[Any, ...]) -> FacetIndex:
        """Read the index in a few grouped queries: one row per distinct value, with the ids of its datasets
        as one comma-joined text (the rows of 10,000 datasets would cost far more to fetch one by one)."""
        groups = c.fetchall(f"SELECT state, access_level, owner_org, {_id_list_sql(c, 'id')} FROM datasets GROUP BY state, access_level, owner_org")
        ids = np.sort(np.concatenate([_ids(g[3]) for g in groups])) if groups else np.zeros(0, dtype=np.int64)
        n = len(ids)
        pos = np.full(int(ids[-1]) + 1 if n else 1, -1, dtype=np.int32)
        pos[ids] = np.arange(n, dtype=np.int32)
        levels, orgs = _Codes(), _Codes()
        active = np.zeros(n, dtype=bool)
        level = np.zeros(n, dtype=np.int32)
        org = np.full(n, -1, dtype=np.int32)
        for state, lvl, owner, id_text in groups:
            at = pos[_ids(id_text)]
            active[at] = state == "active"
            level[at] = levels(str(lvl))
            if owner is not None:
                org[at] = orgs(str(owner))
        fields: dict[str, _Field] = {}
        parts: dict[str, tuple[list[np.ndarray], list[np.ndarray], list[str]]] = {}
        for f, v, id_text in c.fetchall(f"SELECT field, value, {_id_list_sql(c, 'dataset_id')} FROM catalog_facets GROUP BY field, value"):
            rows_f, codes_f, values_f = parts.setdefault(f, ([], [], []))
            at = _ids(id_text)
            at = at[at < len(pos)]
            p = pos[at]
            p = p[p >= 0]  # a facet row always has its dataset (foreign key); guard anyway
            rows_f.append(p)
            codes_f.append(np.full(len(p), len(values_f), dtype=np.int32))
            values_f.append(v)
        for f, (rows_f, codes_f, values_f) in parts.items():
            fields[f] = _Field(np.concatenate(rows_f), np.concatenate(codes_f), values_f)
        return cls(version, ids, pos, active, level, levels.values, org, orgs.values, fields)

    def updated(self, c: Connection, version: tuple[Any, ...]) -> FacetIndex | None:
        """The index at ``version``, made from this one by reading again only the datasets changed since
        this index's version. None when a full build is needed: the version went back, too many datasets
        changed, or datasets were purged."""
        if not version or not self.version or int(version[0]) < int(self.version[0]):
            return None
        rows = c.fetchall("SELECT d.id, d.state, d.access_level, d.owner_org FROM catalog_changes ch"
                          " JOIN datasets d ON d.id = ch.dataset_id WHERE ch.seq > ?", (int(self.version[0]),))
        if len(rows) > max(2000, len(self.ids) // 2):
            return None
        changed_ids = np.fromiter((int(r[0]) for r in rows), dtype=np.int64, count=len(rows))
        inside = changed_ids < len(self.pos)
        known = np.zeros(len(rows), dtype=bool)
        known[inside] = self.pos[changed_ids[inside]] >= 0
        new_ids = changed_ids[~known]
        if int(c.fetchval("SELECT COUNT(*) FROM datasets") or 0) != len(self.ids) + len(new_ids):
            return None  # purged datasets: start again
        ids = np.concatenate([self.ids, new_ids])
        n = len(ids)
        pos = np.full(max(len(self.pos), int(ids.max()) + 1 if n else 1), -1, dtype=np.int32)
        pos[: len(self.pos)] = self.pos
        pos[new_ids] = np.arange(len(self.ids), n, dtype=np.int32)
        grow = n - len(self.ids)
        active = np.concatenate([self.active, np.zeros(grow, dtype=bool)])
        level = np.concatenate([self.level, np.zeros(grow, dtype=np.int32)])
        org = np.concatenate([self.org, np.full(grow, -1, dtype=np.int32)])
        levels, orgs = _Codes.of(self.levels), _Codes.of(self.orgs)
        for ds_id, state, lvl, owner in rows:
            at = pos[int(ds_id)]
            active[at] = state == "active"
            level[at] = levels(str(lvl))
            org[at] = -1 if owner is None else orgs(str(owner))
        changed = np.zeros(n, dtype=bool)
        changed[pos[changed_ids]] = True
        added: dict[str, tuple[list[int], list[int]]] = {}
        vocab = {f: _Codes.of(fl.values) for f, fl in self.fields.items()}
        for start in range(0, len(changed_ids), 500):
            chunk = [int(i) for i in changed_ids[start:start + 500]]
            for ds_id, f, v in c.fetchall(f"SELECT dataset_id, field, value FROM catalog_facets WHERE dataset_id IN"
                                          f" ({', '.join('?' * len(chunk))})", chunk):
                codes = vocab.setdefault(f, _Codes())
                rows_f, codes_f = added.setdefault(f, ([], []))
                rows_f.append(int(pos[int(ds_id)]))
                codes_f.append(codes(v))
        fields: dict[str, _Field] = {}
        for f in {*self.fields, *added}:
            old = self.fields.get(f)
            keep = ~changed[old.rows] if old is not None else None
            rows_f, codes_f = added.get(f, ([], []))
            fields[f] = _Field(
                np.concatenate([old.rows[keep] if old is not None else np.zeros(0, dtype=np.int32), np.asarray(rows_f, dtype=np.int32)]),
                np.concatenate([old.codes[keep] if old is not None else np.zeros(0, dtype=np.int32), np.asarray(codes_f, dtype=np.int32)]),
                vocab[f].values)
        return FacetIndex(version, ids, pos, active, level, levels.values, org, orgs.values, fields)

    # -- masks ------------------------------------------------------------------------------------------
    def mask_of(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Boolean mask over the positions of these dataset ids (ids unknown to the index are ignored)."""
        mask = np.zeros(len(self.ids), dtype=bool)
        at = np.asarray(ids, dtype=np.int64)
        if len(at):
            at = at[(at >= 0) & (at < len(self.pos))]
            p = self.pos[at]
            mask[p[p >= 0]] = True
        return mask

    def visible(self, key: Hashable, load_ids: Callable[[], Sequence[int]]) -> np.ndarray:
        """The caller's visibility mask for this version, read once per caller through ``load_ids``."""
        with self._lock:
            hit = self._masks.get(key)
            if hit is not None:
                self._masks.move_to_end(key)
                return hit
        mask = self.mask_of(load_ids())
        mask.flags.writeable = False
        with self._lock:
            self._masks[key] = mask
            while len(self._masks) > _MAX_MASKS:
                self._masks.popitem(last=False)
        return mask

    def level_mask(self, level: str) -> np.ndarray:
        code = self.levels.index(level) if level in self.levels else -2
        return self.level == code

    # -- ordering ---------------------------------------------------------------------------------------
    def order_rank(self, c: Connection, column: str) -> np.ndarray:
        """Rank of each position in the database's own order of ``column`` (equal values share a rank), so
        that the collation is the database's. Read once per column and version."""
        hit = self._ranks.get(column)
        if hit is not None:
            return hit
        if column not in SORT_COLUMNS:
            raise ValueError(f"not a sort column: {column}")
        rank = np.zeros(len(self.ids), dtype=np.int32)
        if column == "d.id":
            rank[np.argsort(self.ids, kind="stable")] = np.arange(len(self.ids), dtype=np.int32)
        else:
            r, prev = -1, object()
            at: list[int] = []
            ranks: list[int] = []
            for ds_id, value in c.fetchall(f"SELECT d.id, {column} FROM datasets d ORDER BY {column}"):
                if value != prev:
                    r += 1
                    prev = value
                at.append(int(ds_id))
                ranks.append(r)
            self._scatter(rank, np.asarray(at, dtype=np.int64), np.asarray(ranks, dtype=np.int32))
        self._ranks[column] = rank
        return rank

    def _scatter(self, out: np.ndarray, ids: np.ndarray, values: np.ndarray) -> None:
        """``out[position of id] = value`` for the ids this index knows; other ids are skipped."""
        known = ids < len(self.pos)
        p = self.pos[ids[known]]
        out[p[p >= 0]] = values[known][p >= 0]

    def page(self, c: Connection, mask: np.ndarray, order: Sequence[tuple[str | None, str]],
             scores: Callable[[], list[tuple[Any, Any]]] | None, start: int, rows: int) -> list[int]:
        """Ids of one page of the masked datasets, ordered like ``ORDER BY <order>, d.id ASC``.

        ``order`` holds (column, direction) pairs; column ``None`` is the relevance score, read through
        ``scores`` as (dataset id, score) pairs where a smaller score is better (bm25's sense) and
        datasets without a score count as 0; ``desc`` puts the best first."""
        cand = np.flatnonzero(mask)
        if rows <= 0 or start >= len(cand):
            return []
        keys: list[np.ndarray] = []
        for column, direction in order:
            if column is None:
                if scores is None:
                    continue
                score = np.zeros(len(self.ids), dtype=np.float64)
                found = scores()
                if found:
                    self._scatter(score, np.fromiter((int(r[0]) for r in found), dtype=np.int64, count=len(found)),
                                  np.fromiter((float(r[1]) for r in found), dtype=np.float64, count=len(found)))
                best = score[cand]  # smaller is better: first for "desc" (best first)
                keys.append(best if direction == "desc" else -best)
            else:
                key = self.order_rank(c, column)[cand].astype(np.int64)
                keys.append(-key if direction == "desc" else key)
        keys.append(self.ids[cand])  # d.id ASC
        top = np.lexsort(keys[::-1])[start:start + rows]
        return [int(i) for i in self.ids[cand[top]]]

    # -- counts -----------------------------------------------------------------------------------------
    def counts(self, mask: np.ndarray, fields: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        """Facet counts of the masked datasets: ``{field: [(value, count), ...]}``, values with count > 0."""
        out: dict[str, list[tuple[str, int]]] = {}
        for f in fields:
            if f == "organization":
                sel = self.org[mask]
                vocab = self.orgs
                n = np.bincount(sel[sel >= 0], minlength=len(vocab))
            elif f == "access_level":
                vocab = self.levels
                n = np.bincount(self.level[mask], minlength=len(vocab))
            elif f in self.fields:
                fl = self.fields[f]
                vocab = fl.values
                n = np.bincount(fl.codes[mask[fl.rows]], minlength=len(vocab))
            else:
                out[f] = []
                continue
            nz = np.flatnonzero(n)
            out[f] = [(vocab[i], int(n[i])) for i in nz]
        return out


class FacetIndexHolder:
    """Keeps the indexes of the latest catalogue versions; builds one when a read sees a new version.

    Two versions are kept, so that a reader still on the previous snapshot while a newer one exists
    does not force rebuilds back and forth."""

    def __init__(self, keep: int = 2) -> None:
        self._indexes: OrderedDict[tuple[Any, ...], FacetIndex] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def get(self, c: Connection) -> FacetIndex:
        version = catalogue_version(c)
        idx = self._indexes.get(version)
        if idx is not None:
            return idx
        with self._lock:
            idx = self._indexes.get(version)
            if idx is None:
                latest = next(reversed(self._indexes.values()), None)
                idx = latest.updated(c, version) if latest is not None else None
                if idx is None:
                    idx = FacetIndex.build(c, version)
                self._indexes[version] = idx
                while len(self._indexes) > self._keep:
                    self._indexes.popitem(last=False)
            return idx

    def clear(self) -> None:
        with self._lock:
            self._indexes.clear()


__all__ = ["FacetIndex", "FacetIndexHolder", "catalogue_version", "VERSION_SQL", "SORT_COLUMNS"]
