"""Connectors' health in the cockpit's freshness view: the connectors capability answers through
``ConnectorHealthPort``; ``/cockpit`` lists the unhealthy connectors beside the late datasets, only those of datasets
the viewer may read; the public summary lists none."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.conformance.ckan.inprocess import ckan
from tests.conftest import ADMIN_TOKEN, api_token
from tests.connectors.helpers import ADMIN, add, datastreams, run
from urbanos.ports import ConnectorHealthPort
from urbanos.settings import Settings


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(connectors_scheduler=False, connectors_unhealthy_after=2, connectors_retries=0,
                         connectors_backoff_seconds=0)


def _connector(client: Any, admin: Any, name: str, org: str, access: str) -> None:
    extra = {} if access == "open" else {"grounds": ["third-party-rights"], "legal_basis": "Contract 12/2025"}
    admin.action.package_create(name=name, title=f"Title of {name}", owner_org=org, license_id="CC-BY-4.0",
                                access_level=access, **extra)
    ids = datastreams(client, name, f"{name} v")
    # 127.0.0.1 is not a public address: every run is refused by the outbound policy, at once
    assert add(client, ADMIN, name=f"{name}-feed", type="json", url="http://127.0.0.1:9/feed.json", dataset=name,
               mapping={"datastream": ids[0], "time": "t", "result": "v"}).status_code == 201


def test_unhealthy_connectors_appear_beside_the_late_datasets(client: Any, platform: Any) -> None:
    admin = ckan(client, ADMIN_TOKEN)
    for org in ("parks", "roads"):
        admin.action.organization_create(name=org, title=org.title())
    _connector(client, admin, "parks-open", "parks", "open")
    _connector(client, admin, "roads-internal", "roads", "internal")
    port: ConnectorHealthPort = platform.require(ConnectorHealthPort)
    anonymous = asyncio.run(platform.gate.authenticate(None))
    for name in ("parks-open-feed", "roads-internal-feed"):
        assert run(client, name)["status"] == "failed"
    assert asyncio.run(port.unhealthy(anonymous)) == []  # one failure: not unhealthy yet
    for name in ("parks-open-feed", "roads-internal-feed"):
        run(client, name)

    everything = asyncio.run(port.unhealthy(asyncio.run(platform.gate.authenticate(ADMIN_TOKEN))))
    assert sorted(h.name for h in everything) == ["parks-open-feed", "roads-internal-feed"]
    one = next(h for h in everything if h.name == "parks-open-feed")
    assert (one.dataset, one.type, one.failures, one.last_status) == ("parks-open", "json", 2, "failed")
    assert one.last_run_at and "not a public address" in (one.last_error or "")
    assert [h.name for h in asyncio.run(port.unhealthy(anonymous))] == ["parks-open-feed"]

    # a steward of parks sees parks' connector only; the admin both; the public page none
    steward = {"Authorization": f"Bearer {api_token(client, 'parks-steward', 'steward', 'parks')}"}
    figures = client.get("/cockpit", params={"f": "json"}, headers=steward).json()
    assert [k["name"] for k in figures["connectors"]] == ["parks-open-feed"]
    page = client.get("/cockpit", headers=steward)
    assert "parks-open-feed" in page.text and "roads-internal-feed" not in page.text
    assert "Unhealthy connectors" in page.text
    assert "Gestörte Konnektoren" in client.get("/cockpit?lang=de", headers=steward).text
    admin_figures = client.get("/cockpit", params={"f": "json"}, headers=ADMIN).json()
    assert len(admin_figures["connectors"]) == 2
    public = client.get("/cockpit/public", params={"f": "json"}).json()
    assert "connectors" not in public and "feed" not in client.get("/cockpit/public").text
