"""The preview map of an internal dataset in headless Chromium: drawn for a signed-in member, absent for others."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ADMIN, SHOTS

CSV = b"name,lat,lon,count\nA,53.55,10.0,1\nB,53.56,10.01,2\nC,53.57,10.02,3\n"


@pytest.fixture
def portal(db_url: str, server_factory: Callable[..., Any]) -> Any:
    server = server_factory(db_url)
    u = server.url
    for action, body in (("organization_create", {"name": "parks", "title": "Parks Department"}),
                         ("package_create", {"name": "tree-inspections", "title": "Tree inspections", "owner_org": "parks",
                                             "access_level": "internal", "grounds": ["inspire-13-1-b"],
                                             "legal_basis": "Transparency Act section 3", "license_id": "CC-BY-4.0"})):
        r = httpx.post(f"{u}/api/3/action/{action}", json=body, headers=ADMIN, timeout=30)
        assert r.status_code == 200, r.text
    r = httpx.post(f"{u}/api/3/action/resource_create", headers=ADMIN, timeout=30,
                   data={"package_id": "tree-inspections", "name": "Inspections", "format": "CSV"},
                   files={"upload": ("inspections.csv", CSV, "text/csv")})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 60
    while not httpx.get(f"{u}/api/3/action/package_show?id=tree-inspections", headers=ADMIN,
                        timeout=30).json()["result"]["resources"][0].get("collection"):
        assert time.monotonic() < deadline, "the upload was not imported"
        time.sleep(0.2)
    r = httpx.post(f"{u}/admin/tokens", json={"role": "reader", "org": "parks", "name": "parks reader"},
                   headers=ADMIN, timeout=30)
    assert r.status_code == 201, r.text
    server.token = r.json()["token"]
    return server


def test_signed_in_member_sees_the_preview_map(portal: Any, chromium: Any) -> None:
    SHOTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60000)
    assert page.goto(portal.url + "/datasets/tree-inspections").status == 404
    page.goto(portal.url + "/signin?next=/datasets/tree-inspections")
    page.get_by_label("API token").fill(portal.token)
    with page.expect_response(lambda r: "/preview/" in r.url) as preview:
        page.get_by_role("button", name="Sign in").click()
    assert preview.value.status == 200 and preview.value.headers["cache-control"] == "private, no-store"
    page.wait_for_function("document.querySelectorAll('#map path.leaflet-interactive').length === 3")  # the CSV's points
    page.screenshot(path=str(SHOTS / "portal-preview-internal.png"), full_page=False)
    context.close()
