"""Writing what a feed says, through the ports, as the connector's identity, and only what changed.

Each item is remembered by the feed's own key in ``connector_items`` with a digest of its values: an Observation by
Datastream and phenomenon time, a feature by its id. A rerun with the same feed finds every digest equal and writes
nothing; a changed value is an update (a PATCH of the Observation), a new key a creation. Features are written by
replacing the whole collection (atomic) when any feature changed, appeared or went away.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from urbanos.connectors import store
from urbanos.connectors.mapping import FeatureRule, Mapping, instant, lookup, number
from urbanos.core.jsontext import dumps
from urbanos.errors import NotFound
from urbanos.ports import FeaturesPort, SensingPort

if TYPE_CHECKING:
    from urbanos.connectors.types.base import Counts, Job
    from urbanos.storage import Connection


_LINK = re.compile(r"Observations\((\d+)\)$")


def digest(value: Any) -> str:
    return hashlib.sha1(dumps(value).encode(), usedforsecurity=False).hexdigest()


@dataclass
class ObservationWrites:
    """Observations ``(datastream id, phenomenon time, result)``; rows that could not be read are counted failed."""

    rows: list[tuple[int, str, Any]] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)

    def apply(self, c: Connection, job: Job, counts: Counts) -> None:
        for message in self.bad:
            counts.fail(message)
        sensing = job.platform.require(SensingPort)
        allowed = {ds: _in_dataset(c, sensing, ds, job, counts) for ds in {r[0] for r in self.rows}}
        latest = {f"obs:{ds}:{t}": (ds, t, result) for ds, t, result in self.rows if allowed[ds]}
        have = store.items(c, job.connector.id, "obs:")
        patches: list[tuple[str, str, dict[str, Any]]] = []
        done: list[tuple[str, dict[str, Any], str]] = []
        new: list[tuple[int, str, Any]] = []
        new_keys: list[tuple[str, str]] = []
        for key, (ds, t, result) in latest.items():
            d = digest(result)
            prev = have.get(key)
            if prev is not None and prev[1] == d:
                counts.unchanged += 1
            elif prev is not None:
                patches.append(("PATCH", f"Observations({int(prev[0]['id'])})", {"result": result}))
                done.append((key, prev[0], d))
                counts.updated += 1
            else:
                new.append((ds, t, result))
                new_keys.append((key, d))
        if patches:
            sensing.write_entities(c, job.identity, patches)
        for (key, d), oid in zip(new_keys, create_observations(c, job, new), strict=True):
            if oid is None:
                counts.fail(f"{key[4:]}: the Observation was refused")
                continue
            counts.created += 1
            done.append((key, {"id": oid}, d))
        store.put_items(c, job.connector.id, done)


def create_observations(c: Connection, job: Job, rows: list[tuple[int, str, Any]]) -> list[int | None]:
    """Observations ``(datastream id, phenomenon time, result)`` created at once (SensorThings CreateObservations,
    one group per Datastream); their ids in order, None for a row refused."""
    if not rows:
        return []
    groups: dict[int, list[int]] = {}
    for i, (ds, _, _) in enumerate(rows):
        groups.setdefault(ds, []).append(i)
    body = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
             "dataArray": [[rows[i][1], rows[i][2]] for i in idx]} for ds, idx in groups.items()]
    links = job.platform.require(SensingPort).create_observations(c, job.identity, body)
    out: list[int | None] = [None] * len(rows)
    for i, link in zip([i for idx in groups.values() for i in idx], links, strict=True):
        m = _LINK.search(link)
        out[i] = int(m.group(1)) if m else None
    return out


def _in_dataset(c: Connection, sensing: SensingPort, ds: int, job: Job, counts: Counts) -> bool:
    owner = sensing.datastream_owner(c, ds)
    if owner is None or owner.dataset_id != job.dataset.id:
        counts.fail(f"Datastream {ds} does not exist in dataset {job.dataset.name!r}; its rows are not written")
        return False
    return True


def observation_rows(records: Sequence[Any], mapping: Mapping, datastreams: dict[int | str, int]) -> ObservationWrites:
    """The Observations the mapping finds in ``records`` (``datastreams`` resolves names to ids)."""
    out = ObservationWrites()
    for i, rec in enumerate(records, start=1):
        for rule in mapping.observations:
            result = number(lookup(rec, rule.result))
            raw_time = lookup(rec, rule.time)
            if result is None or result == "":
                continue  # no value in this record for this Datastream
            try:
                t = instant(raw_time)
            except (ValueError, OverflowError):
                out.bad.append(f"record {i}: {rule.time} = {str(raw_time)[:40]!r} is not a time")
                continue
            out.rows.append((datastreams[rule.datastream], t, result))
    return out


async def resolve_datastreams(job: Job, mapping: Mapping) -> dict[int | str, int]:
    """Datastream ids for the mapping's ids and names, read as the connector's identity (NotFound naming a name the
    identity cannot see)."""
    sensing = job.platform.require(SensingPort)
    out: dict[int | str, int] = {}
    for rule in mapping.observations:
        ref = rule.datastream
        if isinstance(ref, int):
            out[ref] = ref
            continue
        quoted = ref.replace("'", "''")
        found = await sensing.read_path("v1.1", "Datastreams", {"$filter": f"name eq '{quoted}'", "$select": "id",
                                                                "$top": "2"}, job.identity, "")
        value = found.get("value") or []
        if len(value) != 1:
            raise NotFound(f"mapping: {'no' if not value else 'more than one'} Datastream named {ref!r} "
                           f"is visible to the connector's identity")
        out[ref] = int(value[0]["@iot.id"])
    return out


@dataclass
class FeatureWrites:
    """A whole collection's features by feed id; the collection is replaced when anything changed."""

    collection: str
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad: list[str] = field(default_factory=list)

    def apply(self, c: Connection, job: Job, counts: Counts) -> None:
        for message in self.bad:
            counts.fail(message)
        prefix = f"feat:{self.collection}:"
        have = store.items(c, job.connector.id, prefix)
        new: list[tuple[str, dict[str, Any], str]] = []
        for fid, feat in self.features.items():
            d = digest(feat)
            prev = have.get(prefix + fid)
            if prev is not None and prev[1] == d:
                counts.unchanged += 1
                continue
            counts.created += prev is None
            counts.updated += prev is not None
            new.append((prefix + fid, {}, d))
        gone = [k for k in have if k[len(prefix):] not in self.features]
        if not new and not gone:
            return
        job.platform.require(FeaturesPort).replace_collection(c, job.identity, job.dataset.name, self.collection,
                                                              list(self.features.values()))
        store.put_items(c, job.connector.id, new)
        store.drop_items(c, job.connector.id, gone)


def feature_rows(records: Sequence[Any], rule: FeatureRule) -> FeatureWrites:
    out = FeatureWrites(rule.collection)
    for i, rec in enumerate(records, start=1):
        fid = lookup(rec, rule.id)
        lon, lat = number(lookup(rec, rule.lon)), number(lookup(rec, rule.lat))
        if fid is None or fid == "":
            out.bad.append(f"record {i}: no id in {rule.id}")
            continue
        geometry = None
        if isinstance(lon, int | float) and isinstance(lat, int | float) and -180 <= lon <= 180 and -90 <= lat <= 90:
            geometry = {"type": "Point", "coordinates": [float(lon), float(lat)]}
        elif lon not in (None, "") or lat not in (None, ""):
            out.bad.append(f"record {i}: {rule.lon}/{rule.lat} is not a WGS84 position")
            continue
        props: dict[str, Any] = {rule.id.rsplit(".", 1)[-1].lstrip("$"): fid}
        for p in rule.properties:
            props[p.rsplit(".", 1)[-1].lstrip("$")] = number(lookup(rec, p))
        out.features[str(fid)] = {"type": "Feature", "properties": props, "geometry": geometry}
    return out


@dataclass
class Combined:
    parts: list[Any] = field(default_factory=list)

    def apply(self, c: Connection, job: Job, counts: Counts) -> None:
        for part in self.parts:
            part.apply(c, job, counts)


async def mapped_writes(job: Job, mapping: Mapping, records: Sequence[Any]) -> Combined:
    """The writes a poller or webhook makes of ``records``."""
    out = Combined()
    if mapping.observations:
        out.parts.append(observation_rows(records, mapping, await resolve_datastreams(job, mapping)))
    if mapping.features is not None:
        out.parts.append(feature_rows(records, mapping.features))
    return out


__all__ = ["ObservationWrites", "create_observations", "FeatureWrites", "Combined", "digest", "observation_rows", "feature_rows",
           "resolve_datastreams", "mapped_writes"]
