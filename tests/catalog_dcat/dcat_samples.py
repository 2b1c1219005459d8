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
