"""Writing the Observations a ``sta`` mirror's live link receives (:mod:`urbanos.connectors.live`), in one
transaction per batch, through the same checked path as a run (the runner's write: the connector's identity checked
again, :meth:`SensingPort.create_observations_bulk`).

Each message is the remote's notification on ``v1.1/Datastreams(<remote id>)/Observations``: the Observation's JSON.
An Observation is written when its time (``phenomenonTime``, or ``resultTime`` with the mapping's ``by``) is after its
Datastream's high-water mark, or at the mark's instant with a remote id not copied yet; the mark then moves in the
same transaction, so the next pull run does not copy it again and a redelivered message is skipped. An Observation
older than the mark is skipped as a pull run would skip it (late data: use ``by: resultTime``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.connectors import store
from urbanos.connectors.types.sta_writes import write_observations
from urbanos.core.time import parse_lenient
from urbanos.ports import SensingPort

if TYPE_CHECKING:
    from urbanos.connectors.types.base import Counts, Job
    from urbanos.storage import Connection

Message = tuple[str, bytes]
"""(remote Datastream id, payload) of one notification."""


def instant(text: Any) -> datetime | None:
    """The start of a time or interval as an aware datetime; None when it is not one."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return parse_lenient(text.split("/", 1)[0])
    except (ValueError, OverflowError):
        return None


@dataclass
class LiveWrites:
    """One batch of messages, written by :meth:`apply` in the runner's transaction."""

    messages: list[Message]
    by: str = "phenomenonTime"
    written: int = 0
    skipped: int = 0
    marks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply(self, c: Connection, job: Job, counts: Counts) -> None:
        cid = job.connector.id
        local = store.items(c, cid, "sta:Datastream:")
        marks = {k[3:]: dict(v[0]) for k, v in store.items(c, cid, "hw:").items()}
        fresh: dict[tuple[str, str], tuple[datetime, str, dict[str, Any]]] = {}
        for remote, payload in self.messages:
            if f"sta:Datastream:{remote}" not in local:
                counts.note(f"a message for remote Datastream {remote[:60]}, which this mirror does not copy")
                continue
            try:
                ob = orjson.loads(payload)
            except orjson.JSONDecodeError:
                counts.fail(f"a message of remote Datastream {remote[:60]} is not JSON")
                continue
            oid = ob.get("@iot.id") if isinstance(ob, dict) else None
            at = instant(ob.get(self.by)) if isinstance(ob, dict) else None
            if isinstance(oid, bool) or not isinstance(oid, int | str) or at is None or "result" not in ob:
                counts.fail(f"a message of remote Datastream {remote[:60]} is not an Observation with @iot.id, "
                            f"{self.by} and result")
                continue
            mark = marks.get(remote) or {}
            seen = instant(mark.get("time"))
            if (remote, str(oid)) in fresh or (seen is not None and (
                    at < seen or (at == seen and str(oid) in (mark.get("ids") or ())))):
                counts.unchanged += 1
                continue
            fresh[(remote, str(oid))] = (at, ob[self.by].split("/", 1)[0], ob)
        order = sorted(fresh.items(), key=lambda kv: (kv[0][0], kv[1][0], kv[0][1]))
        rows = [(int(local[f"sta:Datastream:{r}"][0]["id"]), ob.get("phenomenonTime"), ob["result"],
                 ob.get("resultTime")) for (r, _), (_, _, ob) in order]
        refs = [(r, oid, ob.get(self.by)) for (r, oid), (_, _, ob) in order]
        write_observations(job.platform.require(SensingPort), c, job.identity, rows, refs, counts)
        for (r, oid), (at, text, _) in order:
            mark = marks.get(r) or {}
            seen = instant(mark.get("time"))
            if seen is None or at > seen:
                marks[r] = {"time": text, "ids": [oid]}
            elif at == seen:
                marks[r] = {"time": mark["time"], "ids": [*(mark.get("ids") or ()), oid]}
        moved = sorted({r for (r, _) in fresh})
        store.put_items(c, cid, [(f"hw:{r}", marks[r], "") for r in moved])
        self.marks = {r: marks[r] for r in moved}


__all__ = ["LiveWrites", "Message", "instant"]
