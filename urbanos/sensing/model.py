"""The SensorThings data model: entity types, their properties, tables and relations.

Everything else (paths, queries, serialisation, writes) is driven by these tables, so
the eight core entity types and the MultiDatastream extension are declared once here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Property kinds: how a property is stored and rendered.
#   text     - a TEXT column
#   json     - a JSON document in a text/JSONB column (properties, parameters, unitOfMeasurement ...)
#   geo      - a GeoJSON document (column ``<col>``) plus a geometry column ``geom`` for filters
#   time     - a fixed-width UTC instant (``<col>``)
#   interval - a time that may be an interval: columns ``<col>_start`` and ``<col>_end`` (end NULL = instant)
#   result   - the Observation result (JSON text plus ``result_num``)


@dataclass(frozen=True)
class Prop:
    name: str
    column: str
    kind: str = "text"
    required: bool = False
    v10: bool = True  # present in v1.0


@dataclass(frozen=True)
class Rel:
    """A navigation property.

    ``kind``: ``own`` (foreign key ``fk`` on the source row; one target), ``rev`` (foreign key ``fk`` on the
    target rows pointing at the source; many targets) or ``link`` (many-to-many through ``table`` with the
    source key ``src`` and the target key ``dst``)."""

    name: str
    target: str
    kind: str
    fk: str = ""
    table: str = ""
    src: str = ""
    dst: str = ""
    required: bool = False
    extension: str = ""

    @property
    def many(self) -> bool:
        return self.kind != "own"


@dataclass(frozen=True)
class EntityType:
    name: str
    set_name: str
    table: str
    props: tuple[Prop, ...]
    rels: tuple[Rel, ...]
    extension: str = ""
    prop_map: dict[str, Prop] = field(default_factory=dict, compare=False)
    rel_map: dict[str, Rel] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.prop_map.update({p.name: p for p in self.props})
        self.rel_map.update({r.name: r for r in self.rels})

    def props_for(self, version: str) -> tuple[Prop, ...]:
        return self.props if version != "v1.0" else tuple(p for p in self.props if p.v10)


def _p(name: str, column: str | None = None, kind: str = "text", required: bool = False, v10: bool = True) -> Prop:
    return Prop(name, column or name, kind, required, v10)


ENTITIES: dict[str, EntityType] = {}


def _add(e: EntityType) -> None:
    ENTITIES[e.name] = e


_add(EntityType(
    "Thing", "Things", "sta_things",
    (_p("name", required=True), _p("description"), _p("properties", kind="json")),
    (
        Rel("Locations", "Location", "link", table="sta_thing_locations", src="thing_id", dst="location_id"),
        Rel("HistoricalLocations", "HistoricalLocation", "rev", fk="thing_id"),
        Rel("Datastreams", "Datastream", "rev", fk="thing_id"),
        Rel("MultiDatastreams", "MultiDatastream", "rev", fk="thing_id", extension="mds"),
    ),
))
_add(EntityType(
    "Location", "Locations", "sta_locations",
    (_p("name", required=True), _p("description"), _p("encodingType", "encoding_type", required=True),
     _p("location", kind="geo", required=True), _p("properties", kind="json", v10=False)),
    (
        Rel("Things", "Thing", "link", table="sta_thing_locations", src="location_id", dst="thing_id"),
        Rel("HistoricalLocations", "HistoricalLocation", "link", table="sta_hist_locations", src="location_id",
            dst="historical_location_id"),
    ),
))
_add(EntityType(
    "HistoricalLocation", "HistoricalLocations", "sta_historical_locations",
    (_p("time", "loc_time", kind="time", required=True),),
    (
        Rel("Thing", "Thing", "own", fk="thing_id", required=True),
        Rel("Locations", "Location", "link", table="sta_hist_locations", src="historical_location_id", dst="location_id"),
    ),
))
_add(EntityType(
    "Datastream", "Datastreams", "sta_datastreams",
    (_p("name", required=True), _p("description"), _p("unitOfMeasurement", "unit", kind="json", required=True),
     _p("observationType", "observation_type", required=True), _p("observedArea", "observed_area", kind="geo"),
     _p("phenomenonTime", "phen", kind="interval"), _p("resultTime", "rtime", kind="interval"),
     _p("properties", kind="json", v10=False)),
    (
        Rel("Thing", "Thing", "own", fk="thing_id", required=True),
        Rel("Sensor", "Sensor", "own", fk="sensor_id", required=True),
        Rel("ObservedProperty", "ObservedProperty", "own", fk="observed_property_id", required=True),
        Rel("Observations", "Observation", "rev", fk="datastream_id"),
    ),
))
_add(EntityType(
    "MultiDatastream", "MultiDatastreams", "sta_multi_datastreams",
    (_p("name", required=True), _p("description"), _p("unitOfMeasurements", "units", kind="json", required=True),
     _p("observationType", "observation_type"),
     _p("multiObservationDataTypes", "data_types", kind="json", required=True),
     _p("observedArea", "observed_area", kind="geo"),
     _p("phenomenonTime", "phen", kind="interval"), _p("resultTime", "rtime", kind="interval"),
     _p("properties", kind="json", v10=False)),
    (
        Rel("Thing", "Thing", "own", fk="thing_id", required=True),
        Rel("Sensor", "Sensor", "own", fk="sensor_id", required=True),
        Rel("ObservedProperties", "ObservedProperty", "link", table="sta_mds_properties", src="multi_datastream_id",
            dst="observed_property_id", required=True),
        Rel("Observations", "Observation", "rev", fk="multi_datastream_id"),
    ),
    extension="mds",
))
_add(EntityType(
    "Sensor", "Sensors", "sta_sensors",
    (_p("name", required=True), _p("description"), _p("encodingType", "encoding_type", required=True),
     _p("metadata", required=True), _p("properties", kind="json", v10=False)),
    (
        Rel("Datastreams", "Datastream", "rev", fk="sensor_id"),
        Rel("MultiDatastreams", "MultiDatastream", "rev", fk="sensor_id", extension="mds"),
    ),
))
_add(EntityType(
    "ObservedProperty", "ObservedProperties", "sta_observed_properties",
    (_p("name", required=True), _p("definition", required=True), _p("description"),
     _p("properties", kind="json", v10=False)),
    (
        Rel("Datastreams", "Datastream", "rev", fk="observed_property_id"),
        Rel("MultiDatastreams", "MultiDatastream", "link", table="sta_mds_properties", src="observed_property_id",
            dst="multi_datastream_id", extension="mds"),
    ),
))
_add(EntityType(
    "Observation", "Observations", "sta_observations",
    (_p("phenomenonTime", "phen", kind="interval"), _p("result", kind="result", required=True),
     _p("resultTime", "result_time", kind="time"), _p("resultQuality", "result_quality", kind="json"),
     _p("validTime", "valid", kind="interval"), _p("parameters", kind="json")),
    (
        Rel("Datastream", "Datastream", "own", fk="datastream_id"),
        Rel("MultiDatastream", "MultiDatastream", "own", fk="multi_datastream_id", extension="mds"),
        Rel("FeatureOfInterest", "FeatureOfInterest", "own", fk="feature_id"),
    ),
))
_add(EntityType(
    "FeatureOfInterest", "FeaturesOfInterest", "sta_features",
    (_p("name", required=True), _p("description"), _p("encodingType", "encoding_type", required=True),
     _p("feature", kind="geo", required=True), _p("properties", kind="json", v10=False)),
    (Rel("Observations", "Observation", "rev", fk="feature_id"),),
))

BY_SET: dict[str, EntityType] = {e.set_name: e for e in ENTITIES.values()}
VERSIONS = ("v1.0", "v1.1")
EXTENSIONS = frozenset({"mds"})
"""The extensions served: ``mds``, the MultiDatastream extension."""
SET_ORDER = ("Things", "Locations", "HistoricalLocations", "Datastreams", "MultiDatastreams", "Sensors",
             "ObservedProperties", "Observations", "FeaturesOfInterest")


def rel_of(e: EntityType, name: str) -> Rel | None:
    return e.rel_map.get(name)


def inverse(e: EntityType, rel: Rel) -> Rel | None:
    """The relation from ``rel.target`` back to ``e`` (used to set links when creating at a navigation path)."""
    t = ENTITIES[rel.target]
    for r in t.rels:
        if r.target != e.name:
            continue
        if rel.kind == "own" and r.kind == "rev" and r.fk == rel.fk:
            return r
        if rel.kind == "rev" and r.kind == "own" and r.fk == rel.fk:
            return r
        if rel.kind == "link" and r.kind == "link" and r.table == rel.table:
            return r
    return None


# Things, Datastreams and MultiDatastreams can belong to a catalogue dataset. Standard clients read and
# write that link as this reserved key of ``properties`` (the dataset's name).
DATASET_KEY = "urbanos:dataset"
DATASET_OWNERS = ("Thing", "Datastream", "MultiDatastream")

__all__ = ["DATASET_KEY", "DATASET_OWNERS", "Prop", "Rel", "EntityType", "ENTITIES", "BY_SET", "VERSIONS", "EXTENSIONS", "SET_ORDER", "rel_of", "inverse"]
