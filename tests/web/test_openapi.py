"""/openapi.json describes every public path: it is a valid OpenAPI 3.1 document, built once on the first request
from what each capability declares, and every route the app serves is in it (the fuzzing of what it describes is in
test_schemathesis.py)."""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from urbanos.catalog.actions import READ, WRITE
from urbanos.catalog.openapi import ACTION_PARAMS
from urbanos.features.datastore import ACTIONS
from urbanos.features.openapi import DATASTORE_PARAMS
from urbanos.sensing.model import ENTITIES

# routes served but not described, each with its reason
HIDDEN = {
    "/openapi.json": "the document itself", "/docs": "the API browser (HTML around this document)",
    "/api/action/{name}": "CKAN's unversioned alias of /api/3/action/{name}",
    "/api/3": "CKAN's API version probe", "/ogcapi": "redirect-free alias of /ogcapi/",
}
SAMPLES = {"id": "1", "property": "name", "name": "x", "rid": "1", "filename": "f.csv", "collection": "c",
           "collectionId": "c", "featureId": "1", "token_id": "1", "theme_id": "t",
           "slug": "s", "panel": "p", "dataset": "d"}


def _routes(routes: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for r in routes:
        if isinstance(r, Mount) and r.routes:
            out += _routes(list(r.routes), prefix + r.path)
        elif isinstance(r, Route):
            out.append((prefix + r.path, re.compile(f"^{prefix}{r.path_regex.pattern.lstrip('^')}")))
    return out


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], path)


def test_document_is_valid_and_built_once(app: Any, client: Any) -> None:
    assert app.openapi_schema is None  # nothing built before the first request
    r = client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert app.openapi() is app.openapi()
    for path in ("/sta/v1.1/Things", "/sta/v1.1/Things({id})", "/sta/v1.1/Things({id})/Datastreams",
                 "/sta/v1.1/Things({id})/Locations/$ref", "/sta/v1.1/$batch", "/sta/v1.1/CreateObservations",
                 "/sta/v1.0/Things", "/ogcapi/collections/{collectionId}/items", "/api/3/action/package_search",
                 "/api/3/action/datastore_search", "/download/{collection}.parquet", "/catalog.ttl",
                 "/dataset/{name}.jsonld", "/healthz", "/metrics", "/admin/tokens", "/datasets/{name}", "/"):
        assert path in doc["paths"], path


def test_every_route_is_described(app: Any) -> None:
    doc = app.openapi()
    concrete = [_concrete(p) for p in doc["paths"]]
    missing = [path for path, rx in _routes(list(app.routes))
               if path not in HIDDEN and not path.startswith("/sta/{version}/") and not any(rx.match(c) for c in concrete)]
    assert not missing, f"routes not in /openapi.json: {missing}"


def test_sensorthings_entity_schemas(app: Any) -> None:
    doc = app.openapi()
    post = doc["paths"]["/sta/v1.1/Datastreams"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    body = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert set(body["required"]) == {p.name for p in ENTITIES["Datastream"].props if p.required}
    assert {"Thing", "Sensor", "ObservedProperty"} <= set(body["properties"])
    names = {p["name"] for p in doc["paths"]["/sta/v1.1/Observations"]["get"]["parameters"] for p in
             [doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]]}
    assert names == {"$filter", "$expand", "$select", "$orderby", "$top", "$skip", "$count", "$resultFormat"}
    error = doc["paths"]["/sta/v1.1/Things({id})"]["get"]["responses"]["404"]["$ref"]
    assert error == "#/components/responses/sensing.Error"


def test_every_action_is_described() -> None:
    """A new CKAN or DataStore action lists its parameters in ACTION_PARAMS (urbanos/catalog/openapi.py) or
    DATASTORE_PARAMS (urbanos/features/openapi.py); a removed one leaves them."""
    assert set(ACTION_PARAMS) == {*READ, *WRITE}, "describe the action's parameters in urbanos/catalog/openapi.py"
    assert set(DATASTORE_PARAMS) == set(ACTIONS), "describe the action's parameters in urbanos/features/openapi.py"


def test_ogcapi_paths_are_those_of_its_own_document(app: Any, client: Any) -> None:
    own = client.get("/ogcapi/api", params={"f": "json"}).json()
    platform = app.openapi()["paths"]
    for path, item in own["paths"].items():
        assert set(platform[f"/ogcapi{path}"]) == set(item), path
        for method, op in item.items():
            assert platform[f"/ogcapi{path}"][method]["operationId"] == op["operationId"]
