"""A resident casts a ballot in headless Chromium with the keyboard only (English and German pages), the pages pass
axe-core WCAG 2 AA, and the results page shows every project's support and cost; screenshots are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import ADMIN, axe_violations
from tests.conftest import LiveServer
from tests.participation.budget.helpers import PREFIX, budget_in_vote, codes, org, steward

SHOTS = Path("/tmp/urbanos-shots")


def test_a_ballot_in_the_browser(live_server: LiveServer, chromium: Any, tmp_path: Path) -> None:
    with httpx.Client(base_url=live_server.url, headers=ADMIN, timeout=30) as http:
        org(http, "bezirk-nord")
        h = steward(http, "bezirk-nord")
        b, ids = budget_in_vote(http, "nord", "bezirk-nord", h, low=1, high=2)
        letter = codes(http, b["id"], h, 2)
    SHOTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1100, "height": 900}, locale="de-DE")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        assert page.goto(f"{live_server.url}{PREFIX}/nord").status == 200
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.get_by_text("Ihr Stimmzettel").count() == 1
        assert axe_violations(page) == []
        page.screenshot(path=str(SHOTS / "budget-form-de.png"), full_page=True)
        page.goto(f"{live_server.url}{PREFIX}/nord?lang=en")
        # keyboard only: the first checkbox, then the code field, then the button
        page.locator(f"#project-{ids[0]}").focus()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
        page.locator("#credential").focus()
        page.keyboard.type(letter[0])
        page.keyboard.press("Enter")
        page.wait_for_selector("#voter-key")
        assert page.get_by_text("Thank you: your ballot is stored.").count() == 1
        for shot in (tmp_path / "budget-ballot.png", SHOTS / "budget-ballot.png"):
            page.screenshot(path=str(shot), full_page=True)
        assert axe_violations(page) == []
        # the same code again is refused, in the page, with nothing stored
        page.goto(f"{live_server.url}{PREFIX}/nord?lang=en")
        page.locator(f"#project-{ids[2]}").check()
        page.locator("#credential").fill(letter[0])
        page.locator("button[type=submit]").click()
        assert page.locator("[role=alert]").count() == 1
        assert axe_violations(page) == []
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            assert http.patch(f"{PREFIX}/nord", json={"phase": "results"}, headers=h).status_code == 200
        assert page.goto(f"{live_server.url}{PREFIX}/nord/results?lang=en").status == 200
        rows = page.locator("tbody tr")
        assert rows.count() == 4
        assert page.get_by_text("Ballots: 1").count() == 1
        for shot in (tmp_path / "budget-results.png", SHOTS / "budget-results.png"):
            page.screenshot(path=str(shot), full_page=True)
        assert axe_violations(page) == []
        assert errors == []
    finally:
        context.close()
