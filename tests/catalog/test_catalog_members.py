"""Organisation membership gives rights: ckanapi against a live server adds a user to an organisation, and the
user's token then reads the organisation's internal datasets on every path (show, search counts and facets,
DCAT), edits them as an editor, and loses it all when removed."""

from __future__ import annotations

from typing import Any

import ckanapi
import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDF

from tests.conftest import ADMIN_TOKEN, api_token
from urbanos.governance import Identity, Membership


def _dcat_datasets(url: str, token: str) -> set[str]:
    r = httpx.get(f"{url}/catalog.ttl", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    g = Graph().parse(data=r.text, format="turtle")
    return {str(s).rstrip("/").rsplit("/", 1)[-1] for s in g.subjects(RDF.type, DCAT.Dataset) if isinstance(s, URIRef)}


def _sees(url: str, ck: Any, token: str) -> dict[str, Any]:
    found = ck.action.package_search(rows=100, **{"facet.field": ["organization", "access_level", "tags"]})
    try:
        ck.action.package_show(id="pipes")
        shown = True
    except ckanapi.NotAuthorized:
        shown = False
    return {"show": shown, "count": found["count"], "names": {p["name"] for p in found["results"]},
            "levels": found["facets"]["access_level"], "tags": found["facets"]["tags"], "dcat": _dcat_datasets(url, token)}


def test_member_create_gives_rights(live_server: Any) -> None:
    url = live_server.url
    admin = ckanapi.RemoteCKAN(url, apikey=ADMIN_TOKEN)
    admin.action.organization_create(name="water", title="Water works")
    admin.action.organization_create(name="parks", title="Parks")
    admin.action.package_create(name="reservoirs", owner_org="water", tags=[{"name": "water"}])
    admin.action.package_create(name="pipes", owner_org="water", access_level="internal", grounds=["security"],
                                tags=[{"name": "network"}])
    admin.action.package_create(name="tree-plans", owner_org="parks", access_level="internal", grounds=["security"])

    alice_token = api_token(url, "alice")
    alice = ckanapi.RemoteCKAN(url, apikey=alice_token)
    before = _sees(url, alice, alice_token)
    assert before == {"show": False, "count": 1, "names": {"reservoirs"}, "levels": {"open": 1}, "tags": {"water": 1},
                      "dcat": {"reservoirs"}}

    # member -> reader for the organisation: its internal datasets, and only those, on every path
    out = admin.action.member_create(id="water", object="alice", object_type="user", capacity="member")
    assert out["capacity"] == "member"
    member = _sees(url, alice, alice_token)
    assert member == {"show": True, "count": 2, "names": {"reservoirs", "pipes"}, "levels": {"open": 1, "internal": 1},
                      "tags": {"water": 1, "network": 1}, "dcat": {"reservoirs", "pipes"}}
    assert admin.action.organization_show(id="water")["users"] == [{"name": "alice", "capacity": "member"}]
    with pytest.raises(ckanapi.NotAuthorized):  # a member may not edit
        alice.action.package_patch(id="pipes", title="Pipes")
    with pytest.raises(ckanapi.NotAuthorized):  # nor add members
        alice.action.member_create(id="water", object="bob", object_type="user", capacity="member")

    # editor -> publisher for the organisation, nowhere else
    admin.action.organization_member_create(id="water", username="alice", role="editor")
    assert alice.action.package_patch(id="pipes", title="Pipes")["title"] == "Pipes"
    with pytest.raises(ckanapi.NotAuthorized):
        alice.action.package_create(name="in-parks", owner_org="parks")

    # admin -> steward: may manage the organisation's members
    admin.action.member_create(id="water", object="alice", object_type="user", capacity="admin")
    bob_token = api_token(url, "bob")
    alice.action.member_create(id="water", object="bob", object_type="user", capacity="member")
    bob = ckanapi.RemoteCKAN(url, apikey=bob_token)
    assert bob.action.package_show(id="pipes")["name"] == "pipes"
    with pytest.raises(ckanapi.NotAuthorized):  # a steward of water has no say over parks
        alice.action.member_create(id="parks", object="bob", object_type="user", capacity="member")

    # bad input: CKAN's error types, nothing recorded
    with pytest.raises(ckanapi.ValidationError) as err:
        admin.action.member_create(id="water", object="carol", object_type="user", capacity="owner")
    assert "capacity" in err.value.error_dict
    with pytest.raises(ckanapi.ValidationError) as err:
        admin.action.organization_member_create(id="water", username="carol")
    assert "role" in err.value.error_dict
    with pytest.raises(ckanapi.NotFound):
        admin.action.member_create(id="no-such-org", object="carol", object_type="user", capacity="member")
    with pytest.raises(ckanapi.NotFound):
        admin.action.member_delete(id="water", object="carol", object_type="user")
    assert {u["name"] for u in admin.action.organization_show(id="water")["users"]} == {"alice", "bob"}

    # removal takes the rights away at once
    admin.action.member_delete(id="water", object="alice", object_type="user")
    admin.action.organization_member_delete(id="water", username="bob")
    assert _sees(url, alice, alice_token) == before
    with pytest.raises(ckanapi.NotAuthorized):
        bob.action.package_show(id="pipes")
    assert admin.action.organization_show(id="water")["users"] == []


def test_user_names() -> None:
    token = Identity(subject="token:7", kind="token", memberships=frozenset({Membership("reader")}), name="alice")
    oidc = Identity(subject="oidc:u-123", kind="oidc", memberships=frozenset({Membership("reader")}))
    assert token.user_names == {"token:7", "alice"}
    assert oidc.user_names == {"oidc:u-123", "u-123"}
    assert Identity().user_names == frozenset()
