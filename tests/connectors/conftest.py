"""Fixtures of the connector tests: an in-process app whose outbound policy lets it reach the test's own feed server
on 127.0.0.1, with the server's scheduler off (tests start runs themselves), and helpers to make datasets and
tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import fresh_db_url, settings_for
from tests.connectors.feeds import Files
from tests.local_http import Server, serve

SETTINGS = {"outbound_allow": "127.0.0.1", "connectors_scheduler": False, "connectors_backoff_seconds": 0,
            "connectors_retries": 1, "connectors_timeout": 1.0, "connectors_transfer_seconds": 3.0,
            "connectors_max_bytes": 1024 * 1024, "connectors_webhook_max_bytes": 4096}


@pytest.fixture
def files() -> Files:
    return Files()


@pytest.fixture
def feed(files: Files) -> Iterator[Server]:
    """An HTTP server on 127.0.0.1 answering from ``files``."""
    with serve(files.routes()) as server:
        yield server


@pytest.fixture(scope="module")
def capp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app (and database) per test module: tests of a module use names of their own."""
    from urbanos.web.app import create_app

    folder = tmp_path_factory.mktemp("connectors")
    with fresh_db_url(folder) as url:
        application = create_app(settings_for(folder, url, **SETTINGS))
        yield application
        application.state.platform.close()


@pytest.fixture(scope="module")
def cclient(capp: Any) -> Iterator[Any]:
    from starlette.testclient import TestClient

    with TestClient(capp, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def cplatform(capp: Any, cclient: Any) -> Iterator[Any]:
    platform = capp.state.platform
    runner = platform.services["connectors"].runner
    clock = runner.clock
    yield platform
    runner.clock = clock
