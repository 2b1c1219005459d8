"""Scoped roles are scoped: a check without organisation needs a membership without one, and tokens are
minted at or below the minter's own scope."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import api_token
from urbanos.errors import Forbidden
from urbanos.governance import Gate, Identity, Membership


def _ident(*memberships: Membership) -> Identity:
    return Identity(subject="token:9", kind="token", memberships=frozenset(memberships))


def test_a_scoped_role_never_passes_a_global_check() -> None:
    scoped_admin = _ident(Membership("admin", "orga"))
    assert scoped_admin.has_role("admin", "orga")
    assert not scoped_admin.has_role("admin")
    assert not scoped_admin.has_role("publisher")
    assert not scoped_admin.has_role("publisher", "orgb")
    assert scoped_admin.has_role_somewhere("publisher")
    with pytest.raises(Forbidden):
        Gate.require(scoped_admin, "admin")
    glob = _ident(Membership("publisher"))
    assert glob.has_role("publisher") and glob.has_role("publisher", "orga")
    assert not glob.has_role("steward", "orga")


def test_home_org_of_new_entities() -> None:
    assert _ident(Membership("publisher", "orgb"), Membership("reader", "orga")).home_org() == "orgb"
    assert _ident(Membership("publisher", "orgb"), Membership("steward", "orga")).home_org() == "orga"
    assert _ident(Membership("publisher"), Membership("publisher", "orga")).home_org() is None


def _post(client: Any, token: str, body: dict[str, Any]) -> Any:
    return client.post("/admin/tokens", json=body, headers={"Authorization": f"Bearer {token}"})


def test_an_organisation_admin_cannot_mint_a_global_admin(client: Any) -> None:
    scoped = api_token(client, "orga admin", "admin", "orga")
    r = _post(client, scoped, {"role": "admin"})
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    r = _post(client, scoped, {"role": "publisher", "org": "orgb"})
    assert r.status_code == 403, r.text
    listed = client.get("/admin/tokens", headers={"Authorization": "Bearer test-admin-token-0123456789"}).json()
    assert all(t["org"] == "orga" for t in listed if t["name"] != "orga admin") and len(listed) == 1
    r = _post(client, scoped, {"role": "publisher", "org": "orga", "name": "bikes"})
    assert r.status_code == 201, r.text
    assert r.json()["org"] == "orga"
    who = client.get("/admin/whoami", headers={"Authorization": f"Bearer {r.json()['token']}"}).json()
    assert who["roles"] == ["publisher:orga"]


def test_an_organisation_admin_sees_and_revokes_only_its_tokens(client: Any, admin_headers: dict[str, str]) -> None:
    scoped = api_token(client, "orga admin", "admin", "orga")
    api_token(client, "orgb publisher", "publisher", "orgb")
    api_token(client, "global reader", "reader")
    mine = client.get("/admin/tokens", headers={"Authorization": f"Bearer {scoped}"})
    assert mine.status_code == 200
    assert [t["name"] for t in mine.json()] == ["orga admin"]
    every = client.get("/admin/tokens", headers=admin_headers).json()
    other = next(t["id"] for t in every if t["name"] == "orgb publisher")
    r = client.delete(f"/admin/tokens/{other}", headers={"Authorization": f"Bearer {scoped}"})
    assert r.status_code == 404
    assert next(t for t in client.get("/admin/tokens", headers=admin_headers).json() if t["id"] == other)["revoked_at"] is None


def test_a_reader_cannot_list_tokens(client: Any) -> None:
    reader = api_token(client, "r", "reader", "orga")
    assert client.get("/admin/tokens", headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    assert client.get("/admin/tokens").status_code == 401
