"""Helpers of the connector tests (imported as tests.connectors.helpers)."""

from __future__ import annotations

from typing import Any

from tests.conftest import ADMIN_TOKEN, api_token
from tests.features.places import add_dataset

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def dataset(platform: Any, name: str, org: str | None = None, level: str = "open") -> int:
    return add_dataset(platform, name, level, org)


def token(client: Any, role: str = "publisher", org: str | None = None, name: str = "t") -> str:
    return api_token(client, name, role, org)


def add(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/connectors", json=body, headers=headers)


def run(client: Any, name: str, headers: dict[str, str] = ADMIN) -> dict[str, Any]:
    r = client.post(f"/connectors/{name}/run", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def counts(result: dict[str, Any]) -> tuple[int, int, int, int]:
    return result["created"], result["updated"], result["unchanged"], result["failed"]


def sta(client: Any, path: str, headers: dict[str, str] = ADMIN) -> Any:
    r = client.get(f"/sta/v1.1/{path}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def datastreams(client: Any, ds: str, *names: str, headers: dict[str, str] = ADMIN) -> list[int]:
    """A Thing of dataset ``ds`` with one Datastream per name; their ids."""
    from tests.sensing.sta_helpers import datastream, location

    body = {"name": f"{ds} thing", "description": "x", "properties": {"urbanos:dataset": ds},
            "Locations": [location(f"{ds} place")],
            "Datastreams": [datastream(n, properties={"urbanos:dataset": ds}) for n in names]}
    r = client.post("/sta/v1.1/Things", json=body, headers=headers)
    assert r.status_code == 201, r.text
    got = client.get(f"/sta/v1.1/Things({r.json()['@iot.id']})/Datastreams?$orderby=id", headers=headers).json()
    return [int(d["@iot.id"]) for d in got["value"]]


def observations(client: Any, ds_id: int) -> list[tuple[str, Any]]:
    got = sta(client, f"Datastreams({ds_id})/Observations?$orderby=phenomenonTime")["value"]
    return [(o["phenomenonTime"], o["result"]) for o in got]
