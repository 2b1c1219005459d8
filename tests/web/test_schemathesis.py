"""Property-based fuzzing of every operation in /openapi.json (the web layer's routes and every capability's part:
SensorThings, OGC API Features, downloads, the CKAN Action API with the DataStore, DCAT-AP, the portal): never a
server error, and every answer as the document describes it (status code, content type, body schema). Runs on the
in-process ASGI app with the admin token, a few examples per operation, so that the whole run stays short."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python import asgi

from tests.conftest import ADMIN_TOKEN, BACKEND
from urbanos.web.app import create_app

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@pytest.fixture
def api_schema(make_settings: Any) -> Any:
    app = create_app(make_settings())
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield schema
    app.state.platform.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def asgi_session(api_schema: Any) -> Any:
    """One in-process client for all the examples of a test (a client per request costs more than the request)."""
    with asgi.get_client(api_schema.app) as client:
        yield client


def _check(case: Any, session: Any) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {ADMIN_TOKEN}"}
    response = case.call(session=session)
    case.validate_response(response, checks=CHECKS)


# One example per operation (plus the explicit ones), in three groups that xdist runs side by side: the
# SensorThings entity sets and entities; their navigation, references and properties; every other API. SensorThings v1.0
# is described from the same data model and served by the same handlers as v1.1, so v1.1 stands for both.
FUZZ = settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                database=None, phases=[Phase.explicit, Phase.generate])


@schema.include(path_regex=r"^/sta/v1\.1(/[^/]*)?$").parametrize()
@FUZZ
def test_sensorthings_entity_sets(case: Any, asgi_session: Any) -> None:
    _check(case, asgi_session)


# The navigation paths share the entity sets' handlers and queries, which both back ends fuzz above: these hundreds of
# operations are fuzzed once, on SQLite.
@pytest.mark.skipif(BACKEND != "sqlite", reason="the handlers are fuzzed on PostgreSQL through the entity sets")
@schema.include(path_regex=r"^/sta/v1\.1/[^/]+\)/").parametrize()
@FUZZ
def test_sensorthings_navigation_references_properties(case: Any, asgi_session: Any) -> None:
    _check(case, asgi_session)


# Every other API, in four groups of 30-110 operations (as one test it was the suite's slowest, 85 s on
# PostgreSQL, and a run waited for it at its end): the CKAN Action API with the DataStore; participation and
# Open311; privacy and the algorithm register; the rest (OGC API Features, downloads, DCAT-AP, the portal,
# connectors, dashboards, alerts, admin).
GROUPS = r"^/(sta/|api/|participation|open311|privacy|algorithms)"


@schema.include(path_regex=r"^/api/").parametrize()
@FUZZ
def test_ckan_action_api(case: Any, asgi_session: Any) -> None:
    _check(case, asgi_session)


@schema.include(path_regex=r"^/(participation|open311)").parametrize()
@FUZZ
def test_participation_and_open311(case: Any, asgi_session: Any) -> None:
    _check(case, asgi_session)


@schema.include(path_regex=r"^/(privacy|algorithms)").parametrize()
@FUZZ
def test_privacy_and_algorithms(case: Any, asgi_session: Any) -> None:
    _check(case, asgi_session)


@schema.exclude(path_regex=GROUPS).parametrize()
@FUZZ
def test_other_apis(case: Any, asgi_session: Any) -> None:
    _check(case, asgi_session)
