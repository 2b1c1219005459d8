"""SensorThings MQTT topics (OGC 18-088 section 14): parsing and the topics an event touches.

A topic is a resource path of the HTTP API without the service root:
``v1.1/Datastreams(1)/Observations``, ``v1.1/Things(1)``, ``v1.1/Things(1)/name``,
``v1.1/Observations?$select=result,phenomenonTime``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote

from urbanos.errors import BadRequest

VERSIONS = ("v1.0", "v1.1")

SETS = {
    "Things": "Thing",
    "Locations": "Location",
    "HistoricalLocations": "HistoricalLocation",
    "Datastreams": "Datastream",
    "MultiDatastreams": "MultiDatastream",
    "Sensors": "Sensor",
    "ObservedProperties": "ObservedProperty",
    "Observations": "Observation",
    "FeaturesOfInterest": "FeatureOfInterest",
}
SET_OF = {v: k for k, v in SETS.items()}

# Collection-valued navigation properties of each entity type (the spec's entity model, with MultiDatastream).
NAV_COLLECTIONS = {
    "Thing": ("Datastreams", "MultiDatastreams", "Locations", "HistoricalLocations"),
    "Location": ("Things", "HistoricalLocations"),
    "HistoricalLocation": ("Locations",),
    "Datastream": ("Observations",),
    "MultiDatastream": ("Observations", "ObservedProperties"),
    "Sensor": ("Datastreams", "MultiDatastreams"),
    "ObservedProperty": ("Datastreams", "MultiDatastreams"),
    "Observation": (),
    "FeatureOfInterest": ("Observations",),
}

# Entity-valued navigation properties (the entity type's name is the property's name).
NAV_SINGLE = {
    "HistoricalLocation": ("Thing",),
    "Datastream": ("Thing", "Sensor", "ObservedProperty"),
    "MultiDatastream": ("Thing", "Sensor"),
    "Observation": ("Datastream", "MultiDatastream", "FeatureOfInterest"),
}

_COMMON11 = ("name", "description", "properties")
PROPERTIES = {
    "Thing": ("name", "description", "properties"),
    "Location": (*_COMMON11, "encodingType", "location"),
    "HistoricalLocation": ("time",),
    "Datastream": (*_COMMON11, "unitOfMeasurement", "observationType", "observedArea", "phenomenonTime", "resultTime"),
    "MultiDatastream": (*_COMMON11, "unitOfMeasurements", "observationType", "multiObservationDataTypes",
                        "observedArea", "phenomenonTime", "resultTime"),
    "Sensor": (*_COMMON11, "encodingType", "metadata"),
    "ObservedProperty": (*_COMMON11, "definition"),
    "Observation": ("phenomenonTime", "resultTime", "result", "resultQuality", "validTime", "parameters"),
    "FeatureOfInterest": (*_COMMON11, "encodingType", "feature"),
}
# Properties that version 1.0 does not have.
NOT_IN_V10 = {("Location", "properties"), ("Datastream", "properties"), ("Sensor", "properties"),
              ("ObservedProperty", "properties"), ("FeatureOfInterest", "properties"), ("MultiDatastream", "properties")}

_SEG = re.compile(r"^([A-Za-z]+)(?:\(([0-9]+|'[^']*')\))?$")


@dataclass(frozen=True)
class Topic:
    """A parsed SensorThings topic.

    ``kind``: ``collection`` (an entity set, or a collection reached by navigation from ``parent``),
    ``entity`` (one entity), ``navigation`` (the one entity an entity-valued navigation property of
    ``parent`` leads to) or ``property`` (one property of one entity).
    """

    version: str
    kind: str
    entity_set: str
    id: str | None = None
    parent: tuple[str, str] | None = None  # (entity set, id)
    prop: str | None = None
    select: tuple[str, ...] | None = None

    @property
    def entity_type(self) -> str:
        return SETS[self.entity_set]

    @property
    def path(self) -> str:
        """The resource path (without version and query), as the HTTP API takes it."""
        if self.kind == "collection":
            if self.parent:
                return f"{self.parent[0]}({self.parent[1]})/{self.entity_set}"
            return self.entity_set
        if self.kind == "navigation" and self.parent:
            return f"{self.parent[0]}({self.parent[1]})/{SETS[self.entity_set]}"
        base = f"{self.entity_set}({self.id})"
        return f"{base}/{self.prop}" if self.kind == "property" else base

    @cached_property
    def base(self) -> str:
        return f"{self.version}/{self.path}"

    @property
    def creatable(self) -> bool:
        return self.kind == "collection" and self.select is None


def is_sta(topic: str) -> bool:
    return topic.split("/", 1)[0] in VERSIONS


def _id(raw: str) -> str:
    return raw[1:-1].replace("''", "'") if raw.startswith("'") else str(int(raw))


def parse(topic: str) -> Topic:
    """Parse a topic name or a subscription filter without wildcards; BadRequest when it is not one."""
    path, sep, query = topic.partition("?")
    parts = path.split("/")
    if len(parts) < 2 or parts[0] not in VERSIONS:
        raise BadRequest(f"{topic!r} is not a SensorThings topic: it must start with v1.0/ or v1.1/.")
    version, segs = parts[0], parts[1:]
    select = _select(query, topic) if sep else None
    m = _SEG.match(segs[0])
    if not m or m.group(1) not in SETS:
        raise BadRequest(f"{topic!r}: {segs[0]!r} is not an entity set.")
    eset, eid = m.group(1), m.group(2)
    if len(segs) == 1:
        if eid is None:
            return Topic(version, "collection", eset, select=select)
        return Topic(version, "entity", eset, _id(eid), select=select)
    if len(segs) != 2 or eid is None:
        raise BadRequest(f"{topic!r}: topics have at most two path segments after the version, the first with an id.")
    etype, nxt = SETS[eset], segs[1]
    if nxt in NAV_COLLECTIONS[etype]:
        return Topic(version, "collection", nxt, parent=(eset, _id(eid)), select=select)
    if nxt in NAV_SINGLE.get(etype, ()):
        return Topic(version, "navigation", SET_OF[nxt], parent=(eset, _id(eid)), select=select)
    if nxt in PROPERTIES[etype] and not (version == "v1.0" and (etype, nxt) in NOT_IN_V10):
        if select is not None:
            raise BadRequest(f"{topic!r}: $select is not allowed on a property topic.")
        return Topic(version, "property", eset, _id(eid), prop=nxt)
    raise BadRequest(f"{topic!r}: {nxt!r} is neither a collection navigation property nor a property of {etype}.")


def _select(query: str, topic: str) -> tuple[str, ...]:
    if not query.startswith("$select="):
        raise BadRequest(f"{topic!r}: only $select is allowed in a topic.")
    value = unquote(query[len("$select="):])
    if "&" in value:
        raise BadRequest(f"{topic!r}: only $select is allowed in a topic.")
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    if not names:
        raise BadRequest(f"{topic!r}: $select needs at least one property.")
    for n in names:
        if not re.fullmatch(r"@?[A-Za-z][A-Za-z0-9_.]*", n):
            raise BadRequest(f"{topic!r}: {n!r} is not a property name.")
    return names


def _link_ids(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def event_topics(kind: str, entity: str, eid: object, links: dict[str, object] | None,
                 changed: Iterable[str] = (), versions: Iterable[str] = VERSIONS) -> list[Topic]:
    """The base topics (no $select) whose subscribers hear about this change.

    Created: the entity set and every collection reached by navigation from a linked entity.
    Updated: the same collections (an entity set hears about updates of its members, as the OGC test
    suite checks), the entity, and each changed property. Deletions have no notification in the standard.
    """
    eset = SET_OF.get(entity)
    if eset is None or kind not in ("created", "updated"):
        return []
    out: list[Topic] = []
    for v in versions:
        out.append(Topic(v, "collection", eset))
        for ptype, raw in (links or {}).items():
            pset = SET_OF.get(ptype)
            if pset is None or eset not in NAV_COLLECTIONS[ptype]:
                continue
            for pid in _link_ids(raw):
                out.append(Topic(v, "collection", eset, parent=(pset, pid)))
        if kind == "updated":
            out.append(Topic(v, "entity", eset, str(eid)))
            for p in changed:
                if p in PROPERTIES[entity] and not (v == "v1.0" and (entity, p) in NOT_IN_V10):
                    out.append(Topic(v, "property", eset, str(eid), prop=p))
    return out


def create_filters(version: str) -> list[str]:
    """Subscription filters that cover every creatable topic (used against an external broker)."""
    return [f"{version}/+", f"{version}/+/+"]


__all__ = ["Topic", "parse", "is_sta", "event_topics", "create_filters", "SETS", "SET_OF", "NAV_COLLECTIONS", "NAV_SINGLE",
           "PROPERTIES", "VERSIONS"]
