"""The transparency page in headless Chromium, English and German: it passes axe-core (WCAG 2 AA), shows a deletion
record after a purge, and prints without the navigation (the print stylesheet); screenshots for a look."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from tests.browser.conftest import ADMIN, SHOTS, axe_violations
from tests.conftest import LiveServer
from tests.sensing.sta_helpers import thing
from urbanos.cli.main import cli


def _setup(url: str, db_url: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=url, headers=ADMIN, timeout=30) as http:
        assert http.post("/api/3/action/organization_create", json={"name": "mobility", "title": "Mobility"}
                         ).status_code == 200
        r = http.post("/api/3/action/package_create", json={"name": "wifi-presence", "title": "Wi-Fi presence counts",
                                                            "owner_org": "mobility", "license_id": "CC-BY-4.0"})
        assert r.status_code == 200, r.text
        r = http.post("/sta/v1.1/Things", json=thing("Access point", properties={"urbanos:dataset": "wifi-presence"}))
        stream = http.get(r.headers["location"] + "/Datastreams").json()["value"][0]["@iot.id"]
        for day in ("01", "02"):
            http.post("/sta/v1.1/Observations", json={"result": 4, "Datastream": {"@iot.id": stream},
                                                      "phenomenonTime": f"2024-01-{day}T00:00:00Z"})
        assert http.put("/privacy/retention/wifi-presence", json={"days": 30}).status_code == 200
        assert http.put("/privacy/contacts/mobility", json={"contact": "privacy@mobility.example"}).status_code == 200
        http.put("/privacy/person-related", json={"kind": "dataset", "target": "wifi-presence", "person_related": True})
        sections = {"description": "Counts of Wi-Fi devices per access point and 15 minutes.",
                    "personal_data": "Hashed device addresses, discarded after counting.",
                    "purposes": "Plan pedestrian routes and events.", "legal_basis": "GDPR Art. 6(1)(e).",
                    "necessity_proportionality": "Counts only; no device is kept.",
                    "risks": "Tracking of devices.", "measures": "Daily salt; counts below 10 withheld."}
        dpia = http.post("/privacy/dpias", json={"kind": "dataset", "target": "wifi-presence", "sections": sections})
        http.post(f"/privacy/dpias/{dpia.json()['id']}/submit")
        assert http.post(f"/privacy/dpias/{dpia.json()['id']}/approve").status_code == 200
    out = CliRunner().invoke(cli, ["purge", "--db", db_url, "--data-dir", str(tmp_path / "cli")])
    assert out.exit_code == 0 and "2 rows deleted" in out.output, out.output


def test_the_transparency_page_is_accessible_and_printable(live_server: LiveServer, db_url: str, chromium: Any,
                                                           tmp_path: Path) -> None:
    _setup(live_server.url, db_url, tmp_path)
    context = chromium.new_context(viewport={"width": 1280, "height": 1000}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        SHOTS.mkdir(exist_ok=True)
        for lang, heading in (("en", "Deletion records"), ("de", "Löschprotokoll")):
            assert page.goto(f"{live_server.url}/transparency?lang={lang}").status == 200
            assert page.get_by_role("heading", name=heading).count() == 1
            assert page.locator("#h-del + table tbody tr").count() == 1
            for shot in (tmp_path / f"transparency-{lang}.png", SHOTS / f"transparency-{lang}.png"):
                page.screenshot(path=str(shot), full_page=True)
            assert axe_violations(page) == [], lang
        page.emulate_media(media="print")
        assert page.locator("header.top").is_hidden() and page.locator("footer").is_hidden()
        page.screenshot(path=str(SHOTS / "transparency-print.png"), full_page=True)
        pdf = tmp_path / "transparency.pdf"
        page.pdf(path=str(pdf))
        assert pdf.stat().st_size > 5000
        assert errors == []
    finally:
        context.close()
