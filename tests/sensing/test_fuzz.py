"""Fuzzing the SensorThings query paths over HTTP: any input gives 200 or a 4xx/501 STA error, never a 500."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sensing.sta_helpers import Sta, thing

PROPS = ["name", "description", "result", "phenomenonTime", "resultTime", "properties/a", "Datastream/name",
         "Thing/properties/kind", "location", "feature", "id", "nope", "Datastream/Thing/name", "unitOfMeasurement/name"]
OPS = ["eq", "ne", "gt", "ge", "lt", "le", "add", "sub", "mul", "div", "mod", "and", "or"]
LITS = ["1", "-2.5", "'x'", "'O''Neil'", "null", "true", "2024-01-01T00:00:00Z", "geography'POINT(1 2)'",
        "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z", "duration'P1D'", "''", "1e400"]
FUNCS = ["substringof", "startswith", "endswith", "length", "indexof", "substring", "tolower", "toupper", "trim",
         "concat", "year", "month", "day", "hour", "minute", "second", "round", "floor", "ceiling",
         "geo.distance", "geo.length", "geo.intersects", "st_within", "st_relate", "now", "mindatetime"]
SETS = ["Things", "Observations", "Datastreams", "Locations", "FeaturesOfInterest", "Sensors", "HistoricalLocations",
        "MultiDatastreams", "ObservedProperties", "Things(1)/Datastreams", "Datastreams(1)/Observations",
        "Observations(1)/Datastream/Thing", "Things(1)/name/$value", "Things/$ref", "Nope", "Things(x)", "Things(1"]

atom = st.one_of(st.sampled_from(PROPS), st.sampled_from(LITS))


@st.composite
def expr(draw: Any, depth: int = 0) -> str:
    kind = draw(st.integers(0, 3 if depth < 3 else 0))
    if kind == 0:
        return str(draw(atom))
    if kind == 1:
        return f"{draw(expr(depth + 1))} {draw(st.sampled_from(OPS))} {draw(expr(depth + 1))}"
    if kind == 2:
        args = draw(st.lists(expr(depth + 1), max_size=3))
        return f"{draw(st.sampled_from(FUNCS))}({', '.join(args)})"
    return f"not ({draw(expr(depth + 1))})"


options = st.fixed_dictionaries({}, optional={
    "$filter": st.one_of(expr(), st.text(max_size=30)),
    "$orderby": st.one_of(st.sampled_from(PROPS).map(lambda p: p + " desc"), st.text(max_size=15)),
    "$top": st.one_of(st.integers(-5, 5000).map(str), st.text(max_size=5)),
    "$skip": st.one_of(st.integers(-5, 50).map(str), st.text(max_size=5)),
    "$count": st.sampled_from(["true", "false", "maybe", ""]),
    "$select": st.one_of(st.sampled_from(PROPS), st.text(max_size=15)),
    "$expand": st.sampled_from(["Datastreams", "Datastreams($top=1;$orderby=phenomenonTime desc)", "Datastream/Thing",
                                "Observations($filter=result gt 1;$select=result)", "Nope", "Datastreams(", "Locations"]),
    "$resultFormat": st.sampled_from(["dataArray", "GeoJSON", "CSV", "xml"]),
    "$skiptoken": st.text(max_size=12),
})


def test_query_paths_never_fail(sta: Sta) -> None:
    tid = sta.create("/Things", thing("Fuzz", properties={"a": 1, "kind": "x"}))["@iot.id"]
    ds = sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"]
    for i in range(3):
        sta.observe(ds, i, f"2024-01-0{i + 1}T00:00:00Z")
    sta.observe(ds, "text")

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
    @given(path=st.sampled_from(SETS), params=options)
    def check(path: str, params: dict[str, str]) -> None:
        r = sta.c.get(f"/sta/v1.1/{path}", params=params)
        assert r.status_code in (200, 204, 400, 404, 501), (path, params, r.status_code, r.text[:300])
        if r.status_code >= 400:
            body = r.json()
            assert body["type"] == "error" and body["code"] == r.status_code and body["message"]

    check()


json_values = st.recursive(st.none() | st.booleans() | st.integers(-10, 10**12) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
                           lambda ch: st.lists(ch, max_size=3) | st.dictionaries(st.text(max_size=6), ch, max_size=3),
                           max_leaves=6)
bodies = st.one_of(json_values, st.fixed_dictionaries({}, optional={
    "result": json_values, "phenomenonTime": st.one_of(st.text(max_size=25), st.just("2024-01-01T00:00:00Z")),
    "resultTime": json_values, "Datastream": st.one_of(json_values, st.just({"@iot.id": 1})),
    "FeatureOfInterest": json_values, "parameters": json_values, "validTime": json_values,
    "name": json_values, "description": json_values, "Locations": json_values, "properties": json_values,
}))


def test_writes_never_fail(sta: Sta) -> None:
    sta.create("/Things", thing("Target"))

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(path=st.sampled_from(["Observations", "Things", "Things(1)", "Locations", "Datastreams(1)/Observations",
                                 "CreateObservations"]),
           method=st.sampled_from(["POST", "PATCH", "PUT"]), body=bodies)
    def check(path: str, method: str, body: Any) -> None:
        r = sta.c.request(method, f"/sta/v1.1/{path}", json=body, headers=sta.h)
        assert r.status_code in (200, 201, 204, 400, 404, 405, 501), (method, path, body, r.status_code, r.text[:300])

    check()
