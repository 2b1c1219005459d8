"""Topic parsing, event → topics, and MQTT topic matching (pure functions)."""

from __future__ import annotations

import pytest

from tests.conftest import SQLITE_RUN_ONLY
from urbanos.errors import BadRequest
from urbanos.sensing.mqtt import codec
from urbanos.sensing.mqtt.topics import Topic, event_topics, parse

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end


@pytest.mark.parametrize(("topic", "kind", "path", "select"), [
    ("v1.1/Observations", "collection", "Observations", None),
    ("v1.0/Datastreams(1)/Observations", "collection", "Datastreams(1)/Observations", None),
    ("v1.1/Things(7)/HistoricalLocations", "collection", "Things(7)/HistoricalLocations", None),
    ("v1.1/Locations(2)/Things", "collection", "Locations(2)/Things", None),
    ("v1.1/MultiDatastreams(3)/ObservedProperties", "collection", "MultiDatastreams(3)/ObservedProperties", None),
    ("v1.1/Things(1)", "entity", "Things(1)", None),
    ("v1.1/Things(1)/properties", "property", "Things(1)/properties", None),
    ("v1.1/Datastreams(1)/unitOfMeasurement", "property", "Datastreams(1)/unitOfMeasurement", None),
    ("v1.1/Observations?$select=result,phenomenonTime", "collection", "Observations", ("result", "phenomenonTime")),
    ("v1.1/Things(1)?$select=name", "entity", "Things(1)", ("name",)),
    ("v1.1/Datastreams(1)/Thing", "navigation", "Datastreams(1)/Thing", None),
    ("v1.0/Observations(2)/FeatureOfInterest?$select=name", "navigation", "Observations(2)/FeatureOfInterest",
     ("name",)),
])
def test_parse(topic: str, kind: str, path: str, select: tuple[str, ...] | None) -> None:
    t = parse(topic)
    assert (t.kind, t.path, t.select) == (kind, path, select)
    assert t.creatable == (kind == "collection" and select is None)


@pytest.mark.parametrize("topic", [
    "v2.0/Things", "Things", "v1.1/", "v1.1/Nothing", "v1.1/Things/Datastreams", "v1.1/Things(1)/Sensors",
    "v1.1/Things(1)/name/extra", "v1.1/Things(1)/Thing", "v1.1/Things(1)/name?$select=name",
    "v1.1/Things?$filter=id eq 1", "v1.1/Things?$select=", "v1.1/Things?$select=a;drop",
    "v1.0/Datastreams(1)/properties", "v1.1/Things(x)",
])
def test_parse_refuses(topic: str) -> None:
    with pytest.raises(BadRequest):
        parse(topic)


def test_event_topics_for_a_created_observation() -> None:
    names = {t.base for t in event_topics("created", "Observation", 9, {"Datastream": 5, "FeatureOfInterest": 3,
                                                                        "MultiDatastream": None})}
    assert names == {f"{v}/{p}" for v in ("v1.0", "v1.1") for p in
                     ("Observations", "Datastreams(5)/Observations", "FeaturesOfInterest(3)/Observations")}


def test_event_topics_for_an_update() -> None:
    names = {t.base for t in event_topics("updated", "Thing", 2, {}, changed=("name", "Locations"), versions=("v1.1",))}
    assert names == {"v1.1/Things", "v1.1/Things(2)", "v1.1/Things(2)/name"}
    ds = {t.base for t in event_topics("updated", "Datastream", 4, {"Thing": 2, "Sensor": 1}, changed=("name",),
                                       versions=("v1.1",))}
    assert ds == {"v1.1/Datastreams", "v1.1/Things(2)/Datastreams", "v1.1/Sensors(1)/Datastreams",
                  "v1.1/Datastreams(4)", "v1.1/Datastreams(4)/name"}
    assert event_topics("deleted", "Thing", 2, {}) == []
    assert event_topics("created", "Unknown", 2, {}) == []
    hl = {t.base for t in event_topics("created", "HistoricalLocation", 4, {"Thing": 1, "Locations": [2, 3]},
                                       versions=("v1.1",))}
    assert hl == {"v1.1/HistoricalLocations", "v1.1/Things(1)/HistoricalLocations"}
    assert Topic("v1.1", "collection", "Observations").base == "v1.1/Observations"


@pytest.mark.parametrize(("filt", "topic", "match"), [
    ("v1.1/#", "v1.1/Things(1)", True),
    ("v1.1/+/Observations", "v1.1/Datastreams(1)/Observations", True),
    ("v1.1/+/Observations?$select=result", "v1.1/Datastreams(1)/Observations?$select=result", True),
    ("v1.1/+", "v1.1/Datastreams(1)/Observations", False),
    ("#", "$SYS/x", False),
    ("a/+/c", "a/b/c", True),
    ("a/#", "a", True),
])
def test_matches(filt: str, topic: str, match: bool) -> None:
    assert codec.matches(filt, topic) is match


@pytest.mark.parametrize(("filt", "ok"), [("a/#", True), ("a/#/b", False), ("a+", False), ("+", True), ("", False)])
def test_valid_filter(filt: str, ok: bool) -> None:
    assert codec.valid_filter(filt) is ok


def test_codec_round_trip() -> None:
    r = codec.Reader(1024)
    r.feed(codec.publish("a/b", b"x" * 300, 1, 7) + codec.subscribe(3, [("a/#", 1)])[:3])
    (p,) = r.packets()
    m = codec.parse_publish(p)
    assert (m.topic, m.payload, m.qos, m.packet_id) == ("a/b", b"x" * 300, 1, 7)
    r.feed(codec.subscribe(3, [("a/#", 1)])[3:])
    (s,) = r.packets()
    assert codec.parse_subscribe(s).topics == [("a/#", 1)]
    big = codec.Reader(10)
    big.feed(codec.publish("a", b"x" * 100))
    with pytest.raises(codec.ProtocolError):
        big.packets()
