"""What a (Multi)Datastream keeps about its Observations: the phenomenon and result time envelope
(``phenomenonTime``, ``resultTime``) and the pointer to its latest Observation (``last_obs_id``, ``last_phen``),
kept right by every write that adds, moves or removes Observations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from urbanos.storage import Connection


def track_many(c: Connection, table: str, parent: int, first: str, last: str, latest_id: int, latest_start: str,
               rmin: str | None, rmax: str | None) -> None:
    """Widen the envelope of (Multi)Datastream ``parent`` (in ``table``) by Observations from ``first`` to ``last``
    (result times ``rmin`` to ``rmax``), and point at ``latest_id`` when it starts after the latest so far, or at
    the same time with a smaller id (the rule of :func:`retrack`, so that writes committing out of id order agree)."""
    rt_sql, rt_params = "", []
    if rmin is not None and rmax is not None:
        rt_sql = (" rtime_start = CASE WHEN rtime_start IS NULL OR rtime_start > ? THEN ? ELSE rtime_start END,"
                  " rtime_end = CASE WHEN rtime_end IS NULL OR rtime_end < ? THEN ? ELSE rtime_end END,")
        rt_params = [rmin, rmin, rmax, rmax]
    c.execute(
        f"UPDATE {table} SET"
        " phen_start = CASE WHEN phen_start IS NULL OR phen_start > ? THEN ? ELSE phen_start END,"
        " phen_end = CASE WHEN phen_end IS NULL OR phen_end < ? THEN ? ELSE phen_end END,"
        f"{rt_sql}"
        " last_obs_id = CASE WHEN last_phen IS NULL OR last_phen < ? OR (last_phen = ? AND last_obs_id > ?) THEN ?"
        " ELSE last_obs_id END,"
        " last_phen = CASE WHEN last_phen IS NULL OR last_phen < ? THEN ? ELSE last_phen END"
        " WHERE id = ?",
        [first, first, last, last, *rt_params, latest_start, latest_start, latest_id, latest_id, latest_start,
         latest_start, parent],
    )


def track(c: Connection, table: str, parent: int, obs_id: int, start: str, end: str | None, rtime: str | None) -> None:
    """:func:`track_many` for one new Observation; in a group of writes, once per parent for the whole group
    (:meth:`~urbanos.storage.Connection.defer`)."""
    c.defer(("envelope", table, parent), (table, parent, start, end or start, obs_id, start, rtime, rtime), _widen, _flush)


def _lo(a: str | None, b: str | None) -> str | None:
    return b if a is None or (b is not None and b < a) else a


def _hi(a: str | None, b: str | None) -> str | None:
    return b if a is None or (b is not None and b > a) else a


def _widen(old: tuple[Any, ...], new: tuple[Any, ...]) -> tuple[Any, ...]:
    """Two pending envelope widenings of one parent as one; the latest pointer moves to a later start, or to the
    same start with a smaller id (as :func:`track_many` applied in turn would)."""
    table, parent, first, last, latest_id, latest_start, rmin, rmax = old
    later = new[5] > latest_start or (new[5] == latest_start and new[4] < latest_id)
    return (table, parent, min(first, new[2]), max(last, new[3]), new[4] if later else latest_id,
            new[5] if later else latest_start, _lo(rmin, new[6]), _hi(rmax, new[7]))


def _flush(c: Connection, v: tuple[Any, ...]) -> None:
    track_many(c, *v)


def retrack(c: Connection, table: str, parent: Any) -> None:
    """Compute the envelope and latest pointer of ``parent`` again from its Observations (after a move, a delete or a
    purge). On PostgreSQL the parent's row is held first: a concurrent write's widening (:func:`track`) of an
    Observation this transaction cannot see yet then waits for this commit and widens the recomputed envelope, where
    it would otherwise be overwritten by it (and two recomputations follow each other's deletes)."""
    if parent is None:
        return
    if c.dialect.name == "postgresql":  # SQLite has one writer at a time
        c.fetchone(f"SELECT id FROM {table} WHERE id = ? FOR NO KEY UPDATE", (parent,))
    fk = "datastream_id" if table == "sta_datastreams" else "multi_datastream_id"
    row = c.fetchone(f"SELECT id, phen_start FROM sta_observations WHERE {fk} = ? ORDER BY phen_start DESC, id ASC"
                     " LIMIT 1", (parent,))
    # one pass over the parent's Observations gives both envelopes (the phenomenon end is not indexed anyway)
    first, last, rfirst, rlast = c.fetchone(
        f"SELECT MIN(phen_start), MAX(COALESCE(phen_end, phen_start)), MIN(result_time), MAX(result_time)"
        f" FROM sta_observations WHERE {fk} = ?", (parent,)) or (None, None, None, None)
    if row is None:
        c.execute(f"UPDATE {table} SET last_obs_id = NULL, last_phen = NULL, phen_start = NULL, phen_end = NULL,"
                  " rtime_start = NULL, rtime_end = NULL WHERE id = ?", (parent,))
    else:
        c.execute(f"UPDATE {table} SET last_obs_id = ?, last_phen = ?, phen_start = ?, phen_end = ?, rtime_start = ?,"
                  " rtime_end = ? WHERE id = ?", (row[0], row[1], first, last, rfirst, rlast, parent))


__all__ = ["track", "track_many", "retrack"]
