"""How visibility is decided fast: the datasets a kind of caller may read, computed once per change of the
access tables instead of once per row.

A stamp (table ``visibility_version``, one row) takes a new random value in every transaction that changes who
may read what: a dataset inserted or deleted, its ``access_level``, ``owner_org`` or ``id`` changed, a grant
added, changed or removed. Database triggers set it (deferred to the commit on PostgreSQL), so every writer
moves it — the catalogue, the command line, another process, plain SQL — and a rolled-back change leaves no
stamp behind that a later change could repeat.

A :class:`VisibilityCache` keeps, per stamp, the datasets with their access level and owner and the grants;
per kind of caller (anonymous, or one subject with its organisations) the dataset ids it may read and those it
may not (a :class:`Visibility`). Each read costs one primary-key lookup of the stamp; only when the stamp moved
are the datasets read again.

What the SQL may rely on:

* SQLite: a read runs in one snapshot, so the stamp and the rows of the same transaction agree; the lists
  alone are exact.
* PostgreSQL (read committed): every statement sees the newest commits, so the lists are guarded in the
  statement itself: ``CASE WHEN <stamp now> = <stamp of the lists> THEN <lists> ELSE <the full rule> END``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from urbanos.governance.identity import Identity
    from urbanos.storage import Connection

STAMP_SQL = "SELECT n FROM visibility_version WHERE id = 1"
MAX_LIST = 1000
"""Longest id list written into a statement; past it the full rule is used."""
MAX_CALLERS = 4096
"""Kinds of caller remembered per stamp (then the memo starts again)."""
SNAPSHOT_DIALECTS = frozenset({"sqlite"})
"""Back ends whose reads see one snapshot per transaction (no guard needed in the statement)."""

Filter = tuple[str, list[Any]]

_RANDOM = {"sqlite": "(random() & 9007199254740991)", "postgresql": "floor(random() * 9007199254740991)::bigint"}
_CHANGED = "OLD.id IS DISTINCT FROM NEW.id OR OLD.owner_org IS DISTINCT FROM NEW.owner_org" \
           " OR OLD.access_level IS DISTINCT FROM NEW.access_level"


def visibility_stamp_migration(c: Connection) -> None:
    """The stamp and the triggers that move it (governance migration 3)."""
    c.execute("CREATE TABLE visibility_version (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)")
    c.execute("INSERT INTO visibility_version (id, n) VALUES (1, 1)")
    if c.dialect.name == "postgresql":
        c.execute("CREATE OR REPLACE FUNCTION urbanos_visibility_bump() RETURNS trigger LANGUAGE plpgsql AS $fn$"
                  f" BEGIN UPDATE visibility_version SET n = {_RANDOM['postgresql']} WHERE id = 1; RETURN NULL; END $fn$")
        deferred = "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
        c.execute(f"CREATE CONSTRAINT TRIGGER datasets_visibility_rows AFTER INSERT OR DELETE ON datasets {deferred}"
                  " EXECUTE FUNCTION urbanos_visibility_bump()")
        c.execute(f"CREATE CONSTRAINT TRIGGER datasets_visibility_change AFTER UPDATE ON datasets {deferred}"
                  f" WHEN ({_CHANGED}) EXECUTE FUNCTION urbanos_visibility_bump()")
        c.execute(f"CREATE CONSTRAINT TRIGGER dataset_grants_visibility AFTER INSERT OR UPDATE OR DELETE ON dataset_grants"
                  f" {deferred} EXECUTE FUNCTION urbanos_visibility_bump()")
        for table in ("datasets", "dataset_grants"):
            c.execute(f"CREATE TRIGGER {table}_visibility_truncate AFTER TRUNCATE ON {table} FOR EACH STATEMENT"
                      " EXECUTE FUNCTION urbanos_visibility_bump()")
        return
    bump = f"BEGIN UPDATE visibility_version SET n = {_RANDOM['sqlite']} WHERE id = 1; END"
    for table in ("datasets", "dataset_grants"):
        c.execute(f"CREATE TRIGGER {table}_visibility_insert AFTER INSERT ON {table} {bump}")
        c.execute(f"CREATE TRIGGER {table}_visibility_delete AFTER DELETE ON {table} {bump}")
    changed = _CHANGED.replace("IS DISTINCT FROM", "IS NOT")  # SQLite's spelling, also before 3.39
    c.execute(f"CREATE TRIGGER datasets_visibility_update AFTER UPDATE ON datasets WHEN {changed} {bump}")
    c.execute(f"CREATE TRIGGER dataset_grants_visibility_update AFTER UPDATE ON dataset_grants {bump}")


def _marks(n: int) -> str:
    return ", ".join("?" * n)


@dataclass(frozen=True)
class Visibility:
    """What one kind of caller may read at one stamp: the ids of the datasets it may read (``visible``) and of
    those it may not (``hidden``), both sorted."""

    stamp: int
    visible: tuple[Any, ...]
    hidden: tuple[Any, ...]

    @property
    def everything(self) -> bool:
        """Nothing is hidden from this caller (no filter needed)."""
        return not self.hidden

    @property
    def listable(self) -> bool:
        """The shorter of the two lists fits in a statement."""
        return min(len(self.visible), len(self.hidden)) <= MAX_LIST

    def _by_hidden(self) -> bool:
        return len(self.hidden) <= len(self.visible)

    def filter(self, column: str) -> Filter:
        """True for rows whose ``column`` (a dataset id; NULL: no dataset, open) the caller may read: ``col IS NULL OR
        col NOT IN (hidden)`` when fewer are hidden, else ``col IS NULL OR col IN (visible)``. Only when
        :attr:`listable`."""
        if not self.hidden:
            return "1=1", []
        if self._by_hidden():
            return f"({column} IS NULL OR {column} NOT IN ({_marks(len(self.hidden))}))", list(self.hidden)
        if not self.visible:
            return f"{column} IS NULL", []
        return f"({column} IS NULL OR {column} IN ({_marks(len(self.visible))}))", list(self.visible)

    def hidden_filter(self, column: str) -> Filter:
        """True for rows whose ``column`` is a dataset the caller may not read (the complement of :meth:`filter`)."""
        if not self.hidden:
            return "1=0", []
        if self._by_hidden():
            return f"{column} IN ({_marks(len(self.hidden))})", list(self.hidden)
        if not self.visible:
            return f"{column} IS NOT NULL", []
        return f"({column} IS NOT NULL AND {column} NOT IN ({_marks(len(self.visible))}))", list(self.visible)


def guarded(dialect: str, view: Visibility, fast: Filter | None, full: Callable[[], Filter]) -> Filter | None:
    """The SQL that applies ``fast`` (built from ``view``'s lists; None: no filter) when the lists are current: as
    it is where a read is one snapshot, else guarded by the stamp in the statement, falling back to ``full()``
    (the rule written on the tables)."""
    if dialect in SNAPSHOT_DIALECTS:
        return fast
    then_sql, then_params = fast if fast is not None else ("TRUE", [])
    else_sql, else_params = full()
    return (f"(CASE WHEN ({STAMP_SQL}) = ? THEN {then_sql} ELSE {else_sql} END)",
            [view.stamp, *then_params, *else_params])


@dataclass
class _Snapshot:
    stamp: int
    datasets: list[tuple[Any, str | None, str]]
    grants: dict[str, set[Any]]
    memo: dict[tuple[Any, ...], Visibility] = field(default_factory=dict)
    access: dict[Any, tuple[str | None, str]] = field(default_factory=dict)
    """Dataset id -> (owning organisation, access level)."""


Decide = Callable[["Identity", Any, "str | None", str, bool], bool]
"""``decide(identity, dataset id, owner_org, access_level, granted)``: may the caller read the dataset?"""


class VisibilityCache:
    """The gate's memory of who may read which datasets, valid for one stamp at a time (thread-safe)."""

    def __init__(self, decide: Decide) -> None:
        self._decide = decide
        self._lock = threading.Lock()
        self._snap: _Snapshot | None = None
        self.loads = 0
        """How many times the datasets were read (for tests and metrics)."""

    def forget(self) -> None:
        with self._lock:
            self._snap = None

    def _snapshot(self, c: Connection) -> _Snapshot:
        stamp = int(c.fetchval(STAMP_SQL) or 0)
        snap = self._snap
        if snap is not None and snap.stamp == stamp:
            return snap
        datasets = [(r[0], r[1], str(r[2])) for r in c.fetchall("SELECT id, owner_org, access_level FROM datasets")]
        grants: dict[str, set[Any]] = {}
        for ds, subject in c.fetchall("SELECT dataset_id, subject FROM dataset_grants"):
            grants.setdefault(str(subject), set()).add(ds)
        snap = _Snapshot(stamp, datasets, grants, access={ds_id: (org, level) for ds_id, org, level in datasets})
        with self._lock:
            self._snap = snap
            self.loads += 1
        return snap

    def access_of(self, dataset_id: Any) -> tuple[str | None, str] | None:
        """(owning organisation, access level) of a dataset as of the newest stamp a read has seen; None when no read
        has loaded the datasets yet, or the dataset did not exist then."""
        snap = self._snap
        return snap.access.get(dataset_id) if snap is not None else None

    def of(self, c: Connection, identity: Identity) -> Visibility:
        """The datasets ``identity`` (not an admin) may read, as of the stamp ``c`` sees."""
        snap = self._snapshot(c)
        key: tuple[Any, ...] = ("anonymous",) if identity.is_anonymous else (
            "caller", identity.subject, *sorted(identity.orgs()))
        found = snap.memo.get(key)
        if found is not None:
            return found
        granted = snap.grants.get(identity.subject, set()) if not identity.is_anonymous else set()
        visible: list[Any] = []
        hidden: list[Any] = []
        for ds_id, org, level in snap.datasets:
            (visible if self._decide(identity, ds_id, org, level, ds_id in granted) else hidden).append(ds_id)
        view = Visibility(snap.stamp, tuple(sorted(visible)), tuple(sorted(hidden)))
        with self._lock:
            if len(snap.memo) >= MAX_CALLERS:
                snap.memo.clear()
            snap.memo[key] = view
        return view


__all__ = ["Visibility", "VisibilityCache", "guarded", "visibility_stamp_migration", "STAMP_SQL", "MAX_LIST"]
