"""Retention purges of Observations (asked by the privacy capability through
:meth:`urbanos.ports.SensingPort.purge_observations`): the rows of a dataset's (Multi)Datastreams older than a
cut-off are deleted, and each touched (Multi)Datastream's phenomenonTime and resultTime envelope and its pointer to
the latest Observation are computed again from the Observations that remain. On PostgreSQL whole partitions are
emptied at once where they hold nothing else (see :func:`purge_observations`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from urbanos.events import Event
from urbanos.sensing.envelope import retrack
from urbanos.sensing.partitions import clear_whole

if TYPE_CHECKING:
    from urbanos.storage import Connection

_PARENTS = (("sta_datastreams", "datastream_id", "Datastream"),
            ("sta_multi_datastreams", "multi_datastream_id", "MultiDatastream"))


def purge_observations(c: Connection, dataset_id: int, before: str, datastream_ids: list[int] | None = None) -> int:
    """Delete the Observations of dataset ``dataset_id`` whose phenomenon time starts before ``before``; see
    :meth:`urbanos.ports.SensingPort.purge_observations`. On a partitioned table (PostgreSQL) a partition whose
    whole range is before the cut-off and that holds rows of these (Multi)Datastreams only is emptied at once
    (:func:`urbanos.sensing.partitions.clear_whole`, ``TRUNCATE``); the rest is deleted row by row. One ``updated`` event per
    touched (Multi)Datastream."""
    parents: list[tuple[str, str, str, int]] = []
    for table, fk, entity in _PARENTS:
        if datastream_ids is not None and table != "sta_datastreams":
            continue
        sql, params = f"SELECT id FROM {table} WHERE dataset_id = ?", [dataset_id]
        if datastream_ids is not None:
            if not datastream_ids:
                continue
            sql += f" AND id IN ({', '.join('?' * len(datastream_ids))})"
            params += [int(i) for i in datastream_ids]
        parents += [(table, fk, entity, int(r[0])) for r in c.fetchall(sql + " ORDER BY id", params)]
    dropped: dict[tuple[str, int], int] = {}
    if parents and c.dialect.name == "postgresql":
        dropped = clear_whole(c, before, [(fk, parent) for _t, fk, _e, parent in parents])
    total = 0
    for table, fk, entity, parent in parents:
        n = dropped.get((fk, parent), 0) + int(c.execute(
            f"DELETE FROM sta_observations WHERE {fk} = ? AND phen_start < ?", (parent, before)).rowcount or 0)
        if n:
            total += n
            retrack(c, table, parent)
            c.emit(Event("updated", entity, parent, topic="sensing", dataset_id=dataset_id,
                         data={"links": {}, "purged": n}, changed=("phenomenonTime", "resultTime")))
    return total


def observed_property(c: Connection, observed_property_id: int) -> tuple[str, str | None] | None:
    row = c.fetchone("SELECT name, owner_org FROM sta_observed_properties WHERE id = ?", (observed_property_id,))
    return None if row is None else (str(row[0]), row[1])


__all__ = ["purge_observations", "observed_property"]
