"""CKAN-shaped package dicts as the catalogue service returns them."""

from __future__ import annotations

from typing import Any

OPEN: dict[str, Any] = {
    "id": "0b0c1a5e-0000-4000-8000-000000000001",
    "name": "street-trees",
    "title": "Street trees",
    "notes": "Every street tree of the city with species and planting year.",
    "metadata_created": "2024-01-02T03:04:05.123456",
    "metadata_modified": "2024-02-03T04:05:06.000000",
    "license_id": "cc-by",
    "version": "2.1",
    "tags": [{"name": "trees"}, {"name": "environment"}],
    "organization": {"name": "parks", "title": "Parks Department"},
    "owner_org": "parks",
    "maintainer": "Parks data team",
    "maintainer_email": "parks@example.org",
    "access_level": "open",
    "steward": "Tree register steward",
    "extras": [
        {"key": "frequency", "value": "MONTHLY"},
        {"key": "themes", "value": '["environment", "ENVI"]'},
        {"key": "spatial", "value": '{"type": "Polygon", "coordinates": [[[9.9,53.5],[10.1,53.5],[10.1,53.6],[9.9,53.6],[9.9,53.5]]]}'},
        {"key": "spatial_text", "value": "Hamburg-Mitte"},
        {"key": "temporal_start", "value": "2020-01-01"},
        {"key": "temporal_end", "value": "2024-12-31"},
    ],
    "resources": [
        {"id": "res-1", "name": "Trees CSV", "description": "All trees", "url": "http://example.org/trees.csv",
         "format": "CSV", "size": 1234, "created": "2024-01-02T03:04:05", "last_modified": "2024-02-03T04:05:06"},
        {"id": "res-2", "name": "Trees GeoJSON", "description": "Map", "url": "http://example.org/trees.geojson",
         "format": "GeoJSON"},
    ],
}

CONFIDENTIAL: dict[str, Any] = {
    "id": "0b0c1a5e-0000-4000-8000-000000000002",
    "name": "witness-register",
    "title": "Witness register",
    "notes": "Register of protected witnesses.",
    "metadata_created": "2024-03-01T00:00:00",
    "metadata_modified": "2024-03-02T00:00:00",
    "license_id": "other-closed",
    "organization": {"name": "police", "title": "Police"},
    "owner_org": "police",
    "access_level": "confidential",
    "grounds": ["inspire-13-1b", "gdpr-personal-data"],
    "legal_basis": "Section 3 Transparency Act",
    "review_date": "2027-01-01",
    "tags": [],
    "resources": [{"id": "res-3", "name": "Register", "url": "http://example.org/secret.csv", "format": "CSV"}],
}

MINIMAL: dict[str, Any] = {"name": "bare", "title": "Bare", "notes": "", "resources": []}


# -- a live catalogue with one dataset per access level ------------------------------------------------------

LEVELS = {"street-trees": "open", "bike-counts": "registered", "patrol-plans": "internal",
          "witness-register": "confidential"}


def seed(client: Any, admin: dict[str, str]) -> dict[str, dict[str, str]]:
    """Organisations, one dataset per access level and tokens for each kind of caller.

    Returns headers by caller: anonymous, registered, member (of police), granted (confidential grant), admin.
    """
    for org in ({"name": "parks", "title": "Parks Department"}, {"name": "police", "title": "Police"}):
        r = client.post("/api/3/action/organization_create", json=org, headers=admin)
        assert r.status_code == 200, r.text
    common = {"license_id": "CC-BY-4.0", "maintainer": "Data team", "maintainer_email": "data@example.org",
              "tags": ["city"], "frequency": "MONTHLY", "theme": ["mobility"]}
    packages = [
        {"name": "street-trees", "title": "Street trees", "notes": "Every street tree.", "owner_org": "parks",
         "access_level": "open", "steward": "Tree steward", "spatial_text": "Hamburg-Mitte",
         "spatial": {"type": "Point", "coordinates": [10.0, 53.55]},
         "resources": [{"name": "Trees CSV", "url": "http://example.org/trees.csv", "format": "CSV"}]},
        {"name": "bike-counts", "title": "Bike counts", "notes": "Counts of bikes.", "owner_org": "parks",
         "access_level": "registered", "grounds": ["third-party-rights"],
         "resources": [{"name": "Counts", "url": "http://example.org/bikes.csv", "format": "CSV"}]},
        {"name": "patrol-plans", "title": "Patrol plans", "notes": "Where patrols go.", "owner_org": "police",
         "access_level": "internal", "grounds": ["security"], "legal_basis": "Police Act section 12",
         "resources": [{"name": "Plans", "url": "http://example.org/patrol.csv", "format": "CSV"}]},
        {"name": "witness-register", "title": "Witness register", "notes": "Protected witnesses.",
         "owner_org": "police", "access_level": "confidential", "grounds": ["inspire-13-1-b", "gdpr-personal-data"],
         "legal_basis": "Transparency Act section 3", "review_date": "2027-01-01",
         "resources": [{"name": "Register", "url": "http://example.org/secret.csv", "format": "CSV"}]},
    ]
    for p in packages:
        r = client.post("/api/3/action/package_create", json={**common, **p}, headers=admin)
        assert r.status_code == 200, r.text
    headers: dict[str, dict[str, str]] = {"anonymous": {}, "admin": admin}
    for who, body in (("registered", {"role": "reader", "name": "reader"}),
                      ("member", {"role": "reader", "org": "police", "name": "police-reader"}),
                      ("granted", {"role": "reader", "name": "granted-reader"})):
        r = client.post("/admin/tokens", json=body, headers=admin)
        assert r.status_code == 201, r.text
        headers[who] = {"Authorization": f"Bearer {r.json()['token']}"}
        if who == "granted":
            token_id = r.json()["id"]
            platform = client.app.state.platform

            def grant(c: Any, tid: int = token_id) -> None:
                ds = c.fetchone("SELECT id FROM datasets WHERE name = ?", ("witness-register",))
                c.execute("INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, ?, ?)",
                          (ds[0], f"token:{tid}", "2024-01-01T00:00:00.000000Z"))

            platform.db.write_sync(grant)
    return headers


#: Which datasets each caller may see.
VISIBLE = {
    "anonymous": {"street-trees"},
    "registered": {"street-trees", "bike-counts"},
    "member": {"street-trees", "bike-counts", "patrol-plans"},
    "granted": {"street-trees", "bike-counts", "witness-register"},
    "admin": set(LEVELS),
}
