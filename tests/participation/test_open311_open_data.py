"""Service requests as open data: the catalogue dataset ``open311-requests`` and its OGC API Features collection,
kept in step with every request write, with coarsened locations and never a contact detail."""

from __future__ import annotations

from typing import Any

import pytest

from tests.participation.o311 import ADMIN, EMAIL, POTHOLE, report, setup_city
from urbanos.participation.open311.opendata import NAME

SECRETS = (EMAIL, "Planted", "Person", "1234567", "dev-77", "acct-88")
ITEMS = f"/ogcapi/collections/{NAME}/items"


@pytest.fixture
def settings(make_settings: Any) -> Any:
    return make_settings(participation_posts_per_minute=1000, participation_posts_per_minute_per_address=1000,
                         participation_open_data_org="roads")


class Recorder:
    """Stands in for the MQTT broker: keeps every message."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    async def publish(self, topic: str, payload: bytes, dataset_id: int | None = None) -> int:
        self.sent.append((topic, payload))
        return 1


def _features(client: Any, **params: str) -> list[dict[str, Any]]:
    r = client.get(ITEMS, params={"limit": "1000", **params})
    assert r.status_code == 200, r.text
    return r.json()["features"]  # type: ignore[no-any-return]


def test_requests_are_an_open_dataset_without_contact_details(client: Any, platform: Any) -> None:
    from urbanos.ports import MessagePort

    mqtt = Recorder()
    platform.ports[MessagePort] = mqtt
    city = setup_city(client)  # the organisation exists only now: the first request publishes everything
    first = report(client, city["citizen"], lat="53.551234", long="9.993456").json()[0]["service_request_id"]
    second = report(client, city["citizen"], description="Second hole").json()[0]["service_request_id"]
    feats = {f["id"]: f for f in _features(client)}
    assert set(feats) == {int(first), int(second)}
    one = feats[int(first)]
    assert one["geometry"]["coordinates"] == [9.993, 53.551]
    assert one["properties"]["service_request_id"] == first and one["properties"]["status"] == "open"
    assert one["properties"]["service_name"] == "Pothole" and one["properties"]["description"] == "Deep hole"
    # the dataset: open, licensed, describing the grid, with the collection as its distributions
    ds = client.get("/api/3/action/package_show", params={"id": NAME}).json()["result"]
    assert ds["access_level"] == "open" and ds["license_id"] == "dl-de-by-2.0" and "rounded" in ds["notes"]
    assert {r["url"].split("/")[-1] for r in ds["resources"]} == {NAME, f"{NAME}.csv", f"{NAME}.geojson"}
    outputs = [client.get(p).text for p in (
        ITEMS, f"{ITEMS}/{first}", f"/download/{NAME}.csv", f"/download/{NAME}.geojson", "/catalog.ttl",
        f"/api/3/action/package_show?id={NAME}")]
    outputs += [payload.decode() for _, payload in mqtt.sent]
    assert len(mqtt.sent) == 2 and "53.551" in outputs[-2]
    assert all(o.strip() for o in outputs)
    for text in outputs:
        for secret in SECRETS:
            assert secret not in text, (secret, text[:300])
    assert "53.551234" not in outputs[2] and "Deep hole" in outputs[2]


def test_updates_moderation_and_sensitive_services_follow(client: Any) -> None:
    city = setup_city(client)
    rid = report(client, city["citizen"]).json()[0]["service_request_id"]
    other = report(client, city["citizen"], description="Another").json()[0]["service_request_id"]
    r = client.post(f"/open311/v2/requests/{rid}/updates.json",
                    data={"api_key": city["roads"], "status": "closed", "agency_responsible": "Bezirksamt Nord"})
    assert r.status_code == 200, r.text
    props = client.get(f"{ITEMS}/{rid}").json()["properties"]
    assert props["status"] == "closed" and props["detailed_status"] == "closed"
    assert props["agency_responsible"] == "Bezirksamt Nord"
    # hidden by a moderator: gone from the collection (and its count), back when shown again
    url = f"/open311/v2/requests/{rid}/moderation.json"
    assert client.post(url, data={"api_key": city["roads"], "reason": "abusive"}).status_code == 200
    assert client.get(f"{ITEMS}/{rid}").status_code == 404
    assert [f["id"] for f in _features(client)] == [int(other)]
    assert client.get(f"/ogcapi/collections/{NAME}/items", params={"limit": "1"}).json()["numberMatched"] == 1
    assert client.post(url, data={"api_key": city["roads"], "hidden": "false"}).status_code == 200
    assert client.get(f"{ITEMS}/{rid}").status_code == 200
    # a sensitive service: no description in the open data (the Open311 API still answers it)
    body = {k: v for k, v in POTHOLE.items() if k != "service_code"}
    r = client.put("/open311/v2/services/pothole.json", json={**body, "sensitive": True}, headers=ADMIN)
    assert r.status_code == 200 and r.json()[0]["sensitive"] is True, r.text
    assert {f["properties"]["description"] for f in _features(client)} == {None}
    third = report(client, city["citizen"], description="Private matter").json()[0]["service_request_id"]
    assert client.get(f"{ITEMS}/{third}").json()["properties"]["description"] is None
    assert "Private matter" not in client.get(f"/download/{NAME}.csv").text


def test_not_published_without_an_organisation(make_settings: Any) -> None:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    settings = make_settings(participation_posts_per_minute=1000, participation_posts_per_minute_per_address=1000)
    with TestClient(create_app(settings)) as c:
        city = setup_city(c)
        assert report(c, city["citizen"]).status_code == 200
        assert c.get(ITEMS).status_code == 404


def test_owslib_reads_the_collection(server_factory: Any, db_url: str) -> None:
    """A real OGC API Features client (OWSLib) reads the collection of a running server."""
    import httpx
    from owslib.ogcapi.features import Features

    from tests.conftest import api_token

    server = server_factory(db_url, env={"URBANOS_PARTICIPATION_OPEN_DATA_ORG": "roads"})
    with httpx.Client(base_url=server.url, timeout=30) as c:
        assert c.post("/api/3/action/organization_create", json={"name": "roads", "title": "roads"},
                      headers=ADMIN).status_code == 200
        assert c.post("/open311/v2/services.json", json=POTHOLE, headers=ADMIN).status_code == 201
        key = api_token(server.url, "citizen-app")
        rid = report(c, key).json()[0]["service_request_id"]
    api = Features(server.url + "/ogcapi")
    assert NAME in {col["id"] for col in api.collections()["collections"]}
    items = api.collection_items(NAME, limit=10)
    assert items["numberMatched"] == 1 and items["features"][0]["properties"]["service_request_id"] == rid
    one = api.collection_item(NAME, rid)
    assert one["geometry"]["coordinates"] == [9.99, 53.55] and EMAIL not in str(one)


def test_a_collection_of_that_name_in_another_dataset_is_never_written(client: Any, platform: Any) -> None:
    from urbanos.governance import ADMIN as ADMIN_ID
    from urbanos.ports import FeaturesPort

    city = setup_city(client)
    r = client.post("/api/3/action/package_create", json={"name": "other-data", "owner_org": "waste",
                                                          "license_id": "cc-by"}, headers=ADMIN)
    assert r.status_code == 200, r.text
    foreign = {"type": "Feature", "properties": {"name": "not a request"},
               "geometry": {"type": "Point", "coordinates": [10.0, 53.5]}}
    port = platform.require(FeaturesPort)
    platform.db.write_sync(lambda c: port.replace_collection(c, ADMIN_ID, "other-data", NAME, [foreign]))
    for _ in range(2):  # the first publication is refused (logged), later writes leave the collection alone
        assert report(client, city["citizen"]).status_code == 200
    items = _features(client)
    assert [f["properties"] for f in items] == [{"name": "not a request"}]


def test_a_request_racing_the_first_publication_is_still_published(client: Any, platform: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL interleaving, replayed in order: a new request's transaction finds no collection yet; meanwhile a
    first publication, which read the requests before that transaction committed, makes the collection without it.
    The request's follow-up must then put it in (it used to find the collection made and stop)."""
    from urbanos.participation.open311.opendata import OpenData

    city = setup_city(client)
    assert report(client, city["citizen"]).status_code == 200  # publishes the collection with this request
    data = platform.services["open311"].open_data
    racing: dict[str, Any] = {}
    real_changed, real_all = OpenData.changed, OpenData._all

    def looked_too_early(self: OpenData, c: Any, rid: int) -> bool:
        if racing:  # only the request's own transaction looked too early
            return real_changed(self, c, rid)
        racing["rid"] = rid
        # the concurrent publication: the collection made again from the rows it read, without this request
        monkeypatch.setattr(OpenData, "_all", lambda s, c2: [f for f in real_all(s, c2) if f["id"] != rid])
        self.publish_all(c)
        monkeypatch.setattr(OpenData, "_all", real_all)
        return False

    monkeypatch.setattr(data, "changed", looked_too_early.__get__(data))
    second = report(client, city["citizen"], description="Racing").json()[0]["service_request_id"]
    monkeypatch.setattr(data, "changed", real_changed.__get__(data))
    assert racing["rid"] == int(second)
    assert int(second) in {f["id"] for f in _features(client)}


@pytest.mark.parametrize(("owner", "level"), [("waste", "open"), ("roads", "confidential")])
def test_a_dataset_of_that_name_made_by_someone_else_is_never_taken_over(client: Any, owner: str, level: str) -> None:
    """A dataset ``open311-requests`` made before the open data was switched on, by another organisation or closed:
    publishing as the platform used to move it to the open data's organisation and open it (with whatever else it
    holds). It stays as it is; the requests are taken, the publication is refused (logged)."""
    city = setup_city(client)
    r = client.post("/api/3/action/package_create", json={
        "name": NAME, "owner_org": owner, "access_level": level, "license_id": "cc-by",
        **({"grounds": ["third-party-rights"]} if level != "open" else {})}, headers=ADMIN)
    assert r.status_code == 200, r.text
    for _ in range(2):
        assert report(client, city["citizen"]).status_code == 200
    ds = client.get("/api/3/action/package_show", params={"id": NAME}, headers=ADMIN).json()["result"]
    assert ds["organization"]["name"] == owner and ds["access_level"] == level and ds["resources"] == []
    assert client.get(ITEMS, headers=ADMIN).status_code == 404
