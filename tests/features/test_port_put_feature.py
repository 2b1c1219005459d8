"""FeaturesPort.put_feature: one feature inserted with a given id, replaced or deleted, in the caller's
transaction, with the count and extent kept and the dataset's write check."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN
from urbanos.errors import NotFound, UrbanosError
from urbanos.features import store
from urbanos.governance import ADMIN, Identity
from urbanos.governance.identity import Membership
from urbanos.ports import FeaturesPort

FIELDS = [{"name": "name", "type": "string"}, {"name": "at", "type": "datetime"}]
HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _feature(name: str, x: float, at: str = "2024-05-01T10:00:00Z") -> dict[str, Any]:
    return {"type": "Feature", "properties": {"name": name, "at": at, "extra": "ignored"},
            "geometry": {"type": "Point", "coordinates": [x, 53.5]}}


def test_put_feature_inserts_replaces_and_deletes_by_id(client: Any, platform: Any) -> None:
    assert client.post("/api/3/action/organization_create", json={"name": "city", "title": "City"},
                       headers=HEADERS).status_code == 200
    r = client.post("/api/3/action/package_create", json={"name": "reports", "owner_org": "city", "title": "Reports",
                                                          "license_id": "cc-by"}, headers=HEADERS)
    assert r.status_code == 200, r.text
    port = platform.require(FeaturesPort)
    first = {**_feature("seven", 10.0), "id": 7}
    n = platform.db.write_sync(lambda c: port.replace_collection(c, ADMIN, "reports", "reports", [first],
                                                                 fields=FIELDS, time_field="at"))
    assert n == 1
    assert platform.db.write_sync(lambda c: port.put_feature(c, ADMIN, "reports", 42, _feature("forty-two", 11.0,
                                                                                               "2024-06-01T00:00:00Z")))
    platform.db.write_sync(lambda c: port.put_feature(c, ADMIN, "reports", 7, _feature("seven again", 9.0)))
    meta = platform.db.read_sync(lambda c: store.get_collection(c, "reports"))
    assert meta.item_count == 2 and meta.bbox == pytest.approx([9.0, 53.5, 11.0, 53.5])
    assert meta.t_max.startswith("2024-06-01")
    items = client.get("/ogcapi/collections/reports/items").json()
    assert {f["id"]: f["properties"]["name"] for f in items["features"]} == {7: "seven again", 42: "forty-two"}
    assert "extra" not in items["features"][0]["properties"]
    assert client.get("/ogcapi/collections/reports/items", params={"datetime": "2024-05-15T00:00:00Z/.."}).json()[
        "numberMatched"] == 1
    assert platform.db.write_sync(lambda c: port.put_feature(c, ADMIN, "reports", 7, None)) is True
    assert platform.db.write_sync(lambda c: port.put_feature(c, ADMIN, "reports", 7, None)) is False
    meta = platform.db.read_sync(lambda c: store.get_collection(c, "reports"))
    assert meta.item_count == 1 == client.get("/ogcapi/collections/reports/items").json()["numberMatched"]
    assert client.get("/ogcapi/collections/reports/items/7").status_code == 404


def test_put_feature_checks_the_writer_and_the_collection(client: Any, platform: Any) -> None:
    for org in ("city", "other"):
        client.post("/api/3/action/organization_create", json={"name": org, "title": org}, headers=HEADERS)
    client.post("/api/3/action/package_create", json={"name": "reports", "owner_org": "city", "license_id": "cc-by"},
                headers=HEADERS)
    port = platform.require(FeaturesPort)
    platform.db.write_sync(lambda c: port.replace_collection(c, ADMIN, "reports", "reports", [_feature("a", 1.0)]))
    stranger = Identity(subject="token:9", kind="token", memberships=frozenset({Membership("publisher", "other")}))
    with pytest.raises(UrbanosError) as exc:
        platform.db.write_sync(lambda c: port.put_feature(c, stranger, "reports", 5, _feature("b", 2.0)))
    assert exc.value.status == 403
    with pytest.raises(NotFound):
        platform.db.write_sync(lambda c: port.put_feature(c, ADMIN, "nothing-here", 5, _feature("b", 2.0)))
    assert platform.db.read_sync(lambda c: store.get_collection(c, "reports")).item_count == 1
