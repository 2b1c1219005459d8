"""Helpers of the planning tests: organisations, tokens and a project open now around Hamburg's Jungfernstieg."""

from __future__ import annotations

from typing import Any

from tests.conftest import ADMIN_TOKEN, api_token

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PREFIX = "/participation/projects"
AREA = {"type": "Polygon", "coordinates": [[[9.979, 53.548], [10.008, 53.548], [10.012, 53.556], [10.002, 53.562],
                                             [9.982, 53.560], [9.979, 53.548]]]}
INSIDE = {"type": "Point", "coordinates": [9.993, 53.553]}
OUTSIDE = {"type": "Point", "coordinates": [9.90, 53.60]}


def org(client: Any, name: str) -> None:
    r = client.post("/api/3/action/organization_create", json={"name": name, "title": name.title()}, headers=ADMIN)
    assert r.status_code == 200, r.text


def token(client: Any, name: str, role: str = "reader", org_name: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, name, role, org_name)}"}


def project_body(name: str, org_name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "title": name.title(), "owner_org": org_name, "area": AREA,
            "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z",
            "categories": ["Traffic", "Green spaces"], "description": "A plan.", **extra}


def make_project(client: Any, name: str, org_name: str, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    r = client.post(PREFIX, json=project_body(name, org_name, **extra), headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def contribute(client: Any, name: str, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {"title": "Benches", "text": "More benches, please.", "category": "Green spaces", "geometry": INSIDE,
            **extra}
    r = client.post(f"{PREFIX}/{name}/contributions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())
