"""Ids, numbers and dates in CKAN requests are read by ASCII rules: "²" (a digit to ``str.isdigit``, not to
``int``) and "١" (a digit to both) name no dataset and are no number; each is a 4xx in CKAN's format that changes
nothing, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

LOOKALIKES = ["²", "١", "١٢", "¹²³", "𝟙", "99999999999999999999999"]


@pytest.fixture
def dataset(client: Any, admin_headers: dict[str, str]) -> dict[str, Any]:
    r = client.post("/api/3/action/organization_create", json={"name": "city"}, headers=admin_headers)
    assert r.status_code == 200, r.text
    r = client.post("/api/3/action/package_create", json={"name": "counts", "owner_org": "city", "title": "Counts"},
                    headers=admin_headers)
    assert r.status_code == 200, r.text
    return r.json()["result"]  # type: ignore[no-any-return]


def _state(client: Any) -> Any:
    r = client.get("/api/3/action/package_search", params={"rows": 100})
    assert r.status_code == 200
    return r.json()["result"]


@pytest.mark.parametrize("key", LOOKALIKES)
def test_lookalike_ids_are_not_found(client: Any, admin_headers: dict[str, str], dataset: dict[str, Any], key: str) -> None:
    before = _state(client)
    r = client.get("/api/3/action/package_show", params={"id": key})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["__type"] == "Not Found Error"
    r = client.post("/api/3/action/package_patch", json={"id": key, "title": "Changed"}, headers=admin_headers)
    assert r.status_code == 404, r.text
    r = client.post("/api/3/action/resource_create", json={"package_id": key, "url": "https://example.org/x.csv"},
                    headers=admin_headers)
    assert r.status_code in (404, 409), r.text
    assert r.json()["success"] is False
    assert _state(client) == before


def test_the_ascii_id_still_works(client: Any, admin_headers: dict[str, str], dataset: dict[str, Any]) -> None:
    r = client.get("/api/3/action/package_show", params={"id": str(dataset["id"])}) if str(dataset["id"]).isascii() \
        else client.get("/api/3/action/package_show", params={"id": dataset["name"]})
    assert r.status_code == 200 and r.json()["result"]["name"] == "counts"


@pytest.mark.parametrize("value", ["١٠", "²", "1e3", "10.5", "99999999999999999999999", " "])
def test_lookalike_numbers_are_invalid(client: Any, value: str) -> None:
    for name in ("rows", "start", "facet.limit"):
        r = client.get("/api/3/action/package_search", params={name: value})
        if value == " ":
            assert r.status_code in (200, 409), r.text
            continue
        assert r.status_code == 409, (name, value, r.text)
        assert r.json()["error"]["__type"] == "Validation Error"
        assert r.json()["error"][name] == ["Invalid integer"]


def test_resource_size_is_read_by_ascii_rules(client: Any, admin_headers: dict[str, str], dataset: dict[str, Any]) -> None:
    r = client.post("/api/3/action/resource_create", json={"package_id": "counts", "url": "https://example.org/a.csv",
                                                           "size": "١٢"}, headers=admin_headers)
    assert r.status_code == 409 and r.json()["error"]["size"] == ["Invalid integer"], r.text
    r = client.post("/api/3/action/resource_create", json={"package_id": "counts", "url": "https://example.org/a.csv",
                                                           "size": "12"}, headers=admin_headers)
    assert r.status_code == 200 and r.json()["result"]["size"] == 12, r.text


@pytest.mark.parametrize("value", ["2024-01-01²10:00:00", "٢٠٢٤-01-01", "2024-01-01T10:00:0١", "2024-01-01T10:00:00.²Z"])
def test_temporal_fields_are_read_by_ascii_rules(client: Any, admin_headers: dict[str, str], dataset: dict[str, Any],
                                                 value: str) -> None:
    r = client.post("/api/3/action/package_patch", json={"id": "counts", "temporal_start": value}, headers=admin_headers)
    assert r.status_code == 409, r.text
    assert "temporal_start" in r.json()["error"]
    ok = client.post("/api/3/action/package_patch", json={"id": "counts", "temporal_start": "2024-01-01T10:00:00"},
                     headers=admin_headers)
    assert ok.status_code == 200 and ok.json()["result"]["temporal_start"] == "2024-01-01T10:00:00", ok.text


@pytest.mark.parametrize("fq", ["metadata_modified:[2024-01-01²00:00:00Z TO *]", "metadata_modified:[NOW-١DAY TO *]",
                                "metadata_modified:[NOW-999999999YEARS TO *]"])
def test_search_dates_are_read_by_ascii_rules(client: Any, fq: str) -> None:
    r = client.get("/api/3/action/package_search", params={"fq": fq})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["__type"] == "Search Query Error"


@pytest.mark.parametrize("text", ["(" * 1000 + "tags:a" + ")" * 1000, "-" * 1000 + "tags:a", "+" * 1000 + "a",
                                  "tags:(" * 200 + "a" + ")" * 200],
                         ids=["parentheses", "minus", "plus", "field groups"])
@pytest.mark.parametrize("param", ["q", "fq"])
def test_search_nesting_is_a_400(client: Any, param: str, text: str) -> None:
    r = client.get("/api/3/action/package_search", params={param: text})
    assert r.status_code == 400, r.text[:300]
    assert r.json()["error"]["__type"] == "Search Query Error"
    assert "32 levels" in r.json()["error"]["message"]
    ok = client.get("/api/3/action/package_search", params={param: "((tags:a OR -tags:b) AND NOT (c))"})
    assert ok.status_code == 200, ok.text
