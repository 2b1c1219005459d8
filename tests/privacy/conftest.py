"""Fixtures of the privacy tests: two organisations, a non-open dataset of each with SensorThings data and a feature
collection, and tokens of every role."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.sensing.sta_helpers import thing
from urbanos.governance.tokens import create_token

ADMIN_H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ROLES = {"steward-a": ("steward", "org-a"), "steward-b": ("steward", "org-b"), "reader-a": ("reader", "org-a"),
         "publisher-a": ("publisher", "org-a"), "publisher-b": ("publisher", "org-b"), "reader": ("reader", None)}


def ckan(client: Any, action: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    r = client.post(f"/api/3/action/{action}", json=body, headers=headers if headers is not None else ADMIN_H)
    assert r.status_code == 200, r.text
    return r.json()["result"]


@pytest.fixture
def orgs(client: Any, platform: Any) -> dict[str, Any]:
    """Organisations org-a and org-b, an internal dataset of each (``org-a-private``, ``org-b-private``), an open one,
    and a token of each role in ``ROLES`` (headers in ``h``, subjects in ``subject``)."""
    out: dict[str, Any] = {"h": {}, "subject": {}}
    for org in ("org-a", "org-b"):
        ckan(client, "organization_create", {"name": org, "title": org.upper()})
        ckan(client, "package_create", {"name": f"{org}-private", "title": f"Private data of {org}", "owner_org": org,
                                         "access_level": "internal", "grounds": ["gdpr-personal-data"]})
    ckan(client, "package_create", {"name": "open-data", "title": "Open", "owner_org": "org-a", "access_level": "open"})
    ids = {r[0]: int(r[1]) for r in platform.db.read_sync(lambda c: c.fetchall("SELECT name, id FROM datasets"))}
    out["ids"] = ids
    for name, (role, org) in ROLES.items():
        secret = platform.db.write_sync(lambda c, role=role, org=org, name=name: create_token(c, role, org, name))
        out["h"][name] = {"Authorization": f"Bearer {secret}"}
        out["subject"][name] = "token:" + secret.split("_")[1]
    out["h"]["admin"] = ADMIN_H
    out["h"]["anonymous"] = {}
    return out


@pytest.fixture
def world(orgs: dict[str, Any], platform: Any, sta: Any, fx: Any) -> dict[str, Any]:
    """``orgs``, with a SensorThings Datastream of three Observations (``stream``) and the feature collection
    ``a-points`` in dataset org-a-private."""
    ids = orgs["ids"]
    tid = sta.create("/Things", {**thing("Counter A"), "dataset_id": ids["org-a-private"]})["@iot.id"]
    stream = sta.ok(f"/Things({tid})/Datastreams", sta.h)["value"][0]["@iot.id"]
    for i in range(3):
        sta.observe(stream, i, f"2024-01-0{i + 1}T00:00:00Z")
    fx.add_points(platform, "a-points", ids["org-a-private"])
    return {**orgs, "stream": stream}


def entries(client: Any, headers: dict[str, str] | None = None, **params: Any) -> list[dict[str, Any]]:
    """The audit entries ``headers`` may read (the admin's by default), newest first."""
    r = client.get("/audit", params={"limit": 1000, **params}, headers=headers or ADMIN_H)
    assert r.status_code == 200, r.text
    return r.json()["entries"]  # type: ignore[no-any-return]
