"""Property-based fuzzing of every endpoint in /openapi.json: never a server error, always the
documented shape. Runs on the in-process ASGI app."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from urbanos.web.app import create_app


@pytest.fixture
def api_schema(make_settings: Any) -> Any:
    app = create_app(make_settings())
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield schema
    app.state.platform.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any) -> None:
    case.headers = {**(case.headers or {}), "Authorization": "Bearer test-admin-token-0123456789"}
    response = case.call()
    case.validate_response(response, checks=(not_a_server_error,))
