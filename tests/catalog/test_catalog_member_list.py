"""member_list and organization_list_for_user through ckanapi against a live server: dataset members only where
the caller may read the dataset, user members (personal data) only for a steward of the organisation or an
admin, CKAN's error types for bad input."""

from __future__ import annotations

from typing import Any

import ckanapi
import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, api_token


def _setup(url: str) -> tuple[Any, dict[str, str]]:
    """Organisations water and parks, a group maps, datasets at every access level, and the members alice
    (member of water) and bob (admin of water)."""
    admin = ckanapi.RemoteCKAN(url, apikey=ADMIN_TOKEN)
    admin.action.organization_create(name="water", title="Water works")
    admin.action.organization_create(name="parks", title="Parks")
    admin.action.group_create(name="maps", title="Maps")
    ids: dict[str, str] = {}
    for name, org, level in [("reservoirs", "water", "open"), ("meters", "water", "registered"),
                             ("pipes", "water", "internal"), ("valves", "water", "confidential"),
                             ("tree-plans", "parks", "internal")]:
        extra = {} if level == "open" else {"grounds": ["security"]}
        ids[name] = admin.action.package_create(name=name, owner_org=org, access_level=level, **extra)["id"]
    for name in ("reservoirs", "pipes", "valves", "tree-plans"):
        admin.action.member_create(id="maps", object=name, object_type="package", capacity="public")
    admin.action.member_create(id="water", object="alice", object_type="user", capacity="member")
    admin.action.member_create(id="water", object="bob", object_type="user", capacity="admin")
    return admin, ids


def _client(url: str, name: str | None, **kw: Any) -> Any:
    return ckanapi.RemoteCKAN(url, apikey=api_token(url, name) if name else None, **kw)


def _packages(triples: list[list[str]]) -> list[list[str]]:
    return [t for t in triples if t[1] == "package"]


def test_member_list_of_an_organisation(live_server: Any) -> None:
    url = live_server.url
    admin, ids = _setup(url)
    pkg = {n: [ids[n], "package", "organization"] for n in ids}
    anon = ckanapi.RemoteCKAN(url)
    anon_get = ckanapi.RemoteCKAN(url, get_only=True)
    carol = _client(url, "carol")  # signed in, no membership
    alice = _client(url, "alice")  # member of water
    bob = _client(url, "bob")      # admin of water: the steward role

    # anonymous: open datasets only and no users, by POST and by GET
    assert anon.action.member_list(id="water") == [pkg["reservoirs"]]
    assert anon_get.action.member_list(id="water") == [pkg["reservoirs"]]
    assert anon.action.member_list(id="water", object_type="package") == [pkg["reservoirs"]]
    # signed in: also registered datasets; a member also the organisation's internal ones, never confidential
    assert carol.action.member_list(id="water") == [pkg["meters"], pkg["reservoirs"]]
    assert alice.action.member_list(id="water") == [pkg["meters"], pkg["pipes"], pkg["reservoirs"]]
    assert alice.action.member_list(id="parks") == []  # internal to parks: not alice's organisation
    # the steward sees the users with CKAN's capacity labels
    users = [["alice", "user", "Member"], ["bob", "user", "Admin"]]
    assert bob.action.member_list(id="water") == [pkg["meters"], pkg["pipes"], pkg["reservoirs"], *users]
    assert bob.action.member_list(id="water", object_type="user") == users
    assert bob.action.member_list(id="water", object_type="user", capacity="member") == users[:1]
    assert bob.action.member_list(id="water", capacity="admin") == users[1:]
    assert bob.action.member_list(id="water", capacity="organization") == [pkg["meters"], pkg["pipes"], pkg["reservoirs"]]
    # the platform admin sees everything
    assert admin.action.member_list(id="water") == [pkg["meters"], pkg["pipes"], pkg["reservoirs"], pkg["valves"], *users]
    water_id = admin.action.organization_show(id="water")["id"]
    assert admin.action.member_list(id=water_id, object_type="user") == users

    # users asked for explicitly by a non-steward: Authorization Error; bob of water is no steward of parks
    for who in (anon, anon_get, carol, alice):
        with pytest.raises(ckanapi.NotAuthorized):
            who.action.member_list(id="water", object_type="user")
    with pytest.raises(ckanapi.NotAuthorized):
        bob.action.member_list(id="parks", object_type="user")
    r = httpx.get(f"{url}/api/3/action/member_list", params={"id": "water", "object_type": "user"}, timeout=30)
    assert r.status_code == 403
    assert r.json()["success"] is False and r.json()["error"]["__type"] == "Authorization Error"


def test_member_list_bad_input(live_server: Any) -> None:
    url = live_server.url
    admin, _ids = _setup(url)
    anon = ckanapi.RemoteCKAN(url)
    for who in (anon, admin):
        with pytest.raises(ckanapi.NotFound):
            who.action.member_list(id="no-such-org")
        with pytest.raises(ckanapi.ValidationError) as err:
            who.action.member_list(id="water", object_type="dataset")
        assert "object_type" in err.value.error_dict
        with pytest.raises(ckanapi.ValidationError) as err:
            who.action.member_list(id="water", capacity="owner")
        assert "capacity" in err.value.error_dict
        with pytest.raises(ckanapi.ValidationError) as err:
            who.action.member_list()
        assert err.value.error_dict["id"] == ["Missing value"]
        with pytest.raises(ckanapi.ValidationError) as err:
            who.action.member_list(id=["water"], object_type=["user"])
        assert {"id", "object_type"} <= set(err.value.error_dict)
    r = httpx.get(f"{url}/api/3/action/member_list", params={"id": "nowhere"}, timeout=30)
    assert r.status_code == 404 and r.json()["error"]["__type"] == "Not Found Error"
    r = httpx.get(f"{url}/api/3/action/member_list", params={"id": "water", "capacity": "owner"}, timeout=30)
    assert r.status_code == 409 and r.json()["error"]["__type"] == "Validation Error"
    r = httpx.post(f"{url}/api/3/action/member_list", content=b"[1, 2]", headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code in (400, 409) and r.json()["success"] is False


def test_member_list_of_a_group_and_organizations_for_user(live_server: Any) -> None:
    url = live_server.url
    admin, ids = _setup(url)
    pkg = {n: [ids[n], "package", "public"] for n in ids}
    anon = ckanapi.RemoteCKAN(url)
    carol = _client(url, "carol")
    alice = _client(url, "alice")

    # a group lists only the datasets the caller may read, and its count agrees
    for who, names in [(anon, ["reservoirs"]), (carol, ["reservoirs"]), (alice, ["pipes", "reservoirs"]),
                       (admin, ["pipes", "reservoirs", "tree-plans", "valves"])]:
        listed = who.action.member_list(id="maps")
        assert listed == [pkg[n] for n in names]
        assert who.action.group_show(id="maps")["package_count"] == len(listed)
    assert admin.action.member_list(id="maps", object_type="user") == []  # groups have no user members here
    assert admin.action.member_list(id="maps", capacity="organization") == []
    assert _packages(admin.action.member_list(id="maps", capacity="public")) == admin.action.member_list(id="maps")

    # organization_list_for_user: the caller's organisations with the capacity held there
    assert [(o["name"], o["capacity"]) for o in alice.action.organization_list_for_user()] == [("water", "member")]
    assert alice.action.organization_list_for_user(permission="create_dataset") == []
    counted = alice.action.organization_list_for_user(include_dataset_count=True)
    assert counted[0]["package_count"] == 3  # reservoirs, meters, pipes: not valves
    assert carol.action.organization_list_for_user() == []
    assert anon.action.organization_list_for_user() == []
    assert [(o["name"], o["capacity"]) for o in admin.action.organization_list_for_user()] == [("parks", "admin"), ("water", "admin")]
    assert [(o["name"], o["capacity"]) for o in admin.action.organization_list_for_user(id="bob", permission="admin")] == [("water", "admin")]
    assert [o["name"] for o in alice.action.organization_list_for_user(id="alice")] == ["water"]
    publisher = ckanapi.RemoteCKAN(url, apikey=api_token(url, "dave", role="publisher", org="parks"))
    assert [(o["name"], o["capacity"]) for o in publisher.action.organization_list_for_user(permission="create_dataset")] == [("parks", "editor")]
    with pytest.raises(ckanapi.NotAuthorized):  # who belongs where is personal data
        alice.action.organization_list_for_user(id="bob")
    with pytest.raises(ckanapi.NotAuthorized):
        anon.action.organization_list_for_user(id="bob")
