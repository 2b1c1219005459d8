"""Helpers of the Open311 tests: services of two organisations and tokens of their staff."""

from __future__ import annotations

from typing import Any

from tests.conftest import ADMIN_TOKEN, api_token

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
EMAIL = "planted.person@example.org"
POTHOLE = {"service_code": "pothole", "service_name": "Pothole", "description": "A hole in the road", "group": "streets",
           "keywords": "road, hole", "organization": "roads", "attributes": [
               {"code": "size", "datatype": "singlevaluelist", "required": True, "description": "How large?",
                "values": [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}]},
               {"code": "depth", "datatype": "number", "description": "Depth in cm"},
               {"code": "seen", "datatype": "datetime", "description": "When seen"},
               {"code": "note", "datatype": "string", "description": "A note"},
               {"code": "long_note", "datatype": "text", "description": "A long note"},
               {"code": "kinds", "datatype": "multivaluelist", "description": "Kinds", "values": [
                   {"key": "a", "name": "A"}, {"key": "b", "name": "B"}]}]}
BULKY = {"service_code": "bulky", "service_name": "Bulky waste pick-up", "type": "batch", "organization": "waste",
         "attributes": []}


def setup_city(client: Any) -> dict[str, str]:
    """Organisations ``roads`` and ``waste``, their services, and tokens: a citizen (reader), the roads steward,
    the waste steward and a waste publisher."""
    for org in ("roads", "waste"):
        r = client.post("/api/3/action/organization_create", json={"name": org, "title": org}, headers=ADMIN)
        assert r.status_code == 200, r.text
    for body in (POTHOLE, BULKY):
        r = client.post("/open311/v2/services.json", json=body, headers=ADMIN)
        assert r.status_code == 201, r.text
    return {"citizen": api_token(client, "citizen-app"), "roads": api_token(client, "roads-staff", "steward", "roads"),
            "waste": api_token(client, "waste-staff", "steward", "waste"),
            "waste_pub": api_token(client, "waste-pub", "publisher", "waste")}


def report(client: Any, key: str, fmt: str = "json", **fields: Any) -> Any:
    data = {"api_key": key, "service_code": "pothole", "lat": "53.55", "long": "9.99", "attribute[size]": "small",
            "description": "Deep hole", "email": EMAIL, "first_name": "Planted", "last_name": "Person",
            "phone": "+49 40 1234567", "device_id": "dev-77", "account_id": "acct-88", **fields}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"/open311/v2/requests.{fmt}", data=data)
