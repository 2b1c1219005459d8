"""The budget pages in headless Chromium, against one real server for the module: a resident proposes an idea and
casts a ballot with the keyboard only (English and German pages), a steward runs the budget in the stewards' pages
(keyboard only: add a project, decide an idea, confirm the next phase, letter codes), and the results page shows
every project's support and cost as a chart with its table; every page passes axe-core WCAG 2 AA; screenshots are
kept in /tmp/urbanos-shots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ADMIN, axe_violations
from tests.conftest import LiveServer, api_token, fresh_db_url, start_server
from tests.participation.budget.helpers import PREFIX, budget_in_vote, codes, org, steward

SHOTS = Path("/tmp/urbanos-shots")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("budget-browser")
    with fresh_db_url(folder) as url:
        live = start_server(folder / "data", url)
        try:
            yield live
        finally:
            live.stop()


def _page(chromium: Any, server: LiveServer, locale: str = "en-GB", token: str | None = None) -> tuple[Any, Any]:
    context = chromium.new_context(viewport={"width": 1100, "height": 900}, locale=locale)
    if token:
        context.add_cookies([{"name": "urbanos_portal_token", "value": token, "url": server.url}])
    page = context.new_page()
    page.set_default_timeout(20000)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return context, page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def test_a_ballot_in_the_browser(server: LiveServer, chromium: Any) -> None:
    with httpx.Client(base_url=server.url, headers=ADMIN, timeout=30) as http:
        org(http, "bezirk-nord")
        h = steward(http, "bezirk-nord")
        b, ids = budget_in_vote(http, "nord", "bezirk-nord", h, low=1, high=2)
        letter = codes(http, b["id"], h, 2)
    context, page = _page(chromium, server, "de-DE")
    try:
        assert page.goto(f"{server.url}{PREFIX}/nord").status == 200
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.get_by_text("Ihr Stimmzettel").count() == 1
        assert axe_violations(page) == []
        _shot(page, "budget-form-de")
        page.goto(f"{server.url}{PREFIX}/nord?lang=en")
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
        _shot(page, "budget-ballot")
        assert axe_violations(page) == []
        # the same code again is refused, in the page, with nothing stored
        page.goto(f"{server.url}{PREFIX}/nord?lang=en")
        page.locator(f"#project-{ids[2]}").check()
        page.locator("#credential").fill(letter[0])
        page.locator("button[type=submit]").click()
        assert page.locator("[role=alert]").count() == 1
        assert axe_violations(page) == []
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.patch(f"{PREFIX}/nord", json={"phase": "results"}, headers=h).status_code == 200
        assert page.goto(f"{server.url}{PREFIX}/nord/results?lang=en").status == 200
        assert page.locator("#results-table tbody tr").count() == 4
        assert page.locator("#results-chart rect").count() == 4
        assert page.get_by_text("Ballots: 1").count() == 1
        assert page.locator("#compare-text").count() == 1  # Equal Shares: compared with most votes
        _shot(page, "budget-results")
        assert axe_violations(page) == []
        assert page.errors == []
    finally:
        context.close()


def test_an_idea_and_the_stewards_pages_by_keyboard(server: LiveServer, chromium: Any) -> None:
    with httpx.Client(base_url=server.url, headers=ADMIN, timeout=30) as http:
        org(http, "bezirk-ost")
        st = api_token(server.url, "steward-ost", "steward", "bezirk-ost")
        resident = api_token(server.url, "resident-ost", "reader")
        r = http.post(PREFIX, json={"name": "ost", "title": "Ost 2027", "owner_org": "bezirk-ost", "amount": 50_000,
                                    "districts": ["Barmbek", "Dulsberg"]}, headers={"Authorization": f"Bearer {st}"})
        assert r.status_code == 201, r.text
        bid = r.json()["id"]
    # a resident proposes an idea, keyboard only, in German
    context, page = _page(chromium, server, "de-DE", resident)
    try:
        page.goto(f"{server.url}{PREFIX}/{bid}/ideas")
        assert page.locator("#idea-form").count() == 1
        assert axe_violations(page) == []
        page.locator("#i-title").focus()
        page.keyboard.type("Spielplatz am Kanal")
        page.keyboard.press("Tab")
        assert _focused(page) == "i-description"
        page.keyboard.type("Ein kleiner Spielplatz </script> am Kanal.")
        page.keyboard.press("Tab")
        page.keyboard.type("abc")  # not a number: refused, what was typed kept
        page.keyboard.press("Enter")
        page.wait_for_selector("#form-errors")
        assert page.locator("#i-title").input_value() == "Spielplatz am Kanal"
        assert axe_violations(page) == []
        _shot(page, "budget-idea-refused-de")
        page.locator("#i-cost").focus()
        page.keyboard.press("Control+A")
        page.keyboard.type("25000")
        page.keyboard.press("Tab")
        assert _focused(page) == "i-district"
        page.keyboard.press("ArrowDown")
        for _ in range(3):
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.type") == "submit"
        page.keyboard.press("Enter")
        page.wait_for_selector("#idea-thanks")
        assert page.get_by_text("Spielplatz am Kanal").count() >= 1
        assert axe_violations(page) == []
        _shot(page, "budget-ideas-de")
        r = httpx.post(f"{server.url}{PREFIX}/{bid}/ideas", json={"title": "Bänke", "description": "Am Wasser.",
                                                                  "cost": 3000},
                       headers={"Authorization": f"Bearer {resident}"}, timeout=30)
        assert r.status_code == 201, r.text
        page.goto(f"{server.url}{PREFIX}/{bid}/ideas?limit=1")  # a page at a time: the links to the others
        assert page.locator("#ideas-shown").inner_text() == "Ideen 1 bis 1 von 2, die ältesten zuerst."
        assert axe_violations(page) == []
        page.locator("a[rel=next]").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("a[rel=prev]")
        assert page.get_by_text("Bänke").count() == 1 and page.get_by_text("Spielplatz am Kanal").count() == 0
        assert axe_violations(page) == []
        _shot(page, "budget-ideas-page-2-de")
        assert page.errors == []
    finally:
        context.close()
    # the steward: a project, the next phase (confirmed), the idea accepted, codes, the new-budget page
    context, page = _page(chromium, server, "en-GB", st)
    try:
        page.goto(f"{server.url}{PREFIX}/new")
        assert axe_violations(page) == []
        _shot(page, "budget-steward-new")
        page.goto(f"{server.url}{PREFIX}/{bid}/manage")
        assert axe_violations(page) == []
        page.locator("#p-title").focus()
        page.keyboard.type("Benches")
        page.keyboard.press("Tab")
        page.keyboard.type("Six benches.")
        page.keyboard.press("Tab")
        page.keyboard.type("12000")
        page.keyboard.press("Enter")
        page.wait_for_selector("#saved")
        assert page.locator("#manage-projects tbody tr").count() == 1
        _shot(page, "budget-steward-manage")
        page.locator("#next-phase").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#confirm-phase")
        assert axe_violations(page) == []
        _shot(page, "budget-steward-confirm")
        page.locator("#confirm-phase button").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#saved")
        assert page.locator(".idea-decision").count() == 2  # the playground and the benches
        assert axe_violations(page) == []
        form = page.locator(".idea-decision").first
        form.locator("input[value=accepted]").focus()
        page.keyboard.press("Space")
        form.locator("input[name=cost]").focus()
        page.keyboard.press("Control+A")
        page.keyboard.type("27000")
        form.locator("button").focus()
        _shot(page, "budget-steward-review")
        page.keyboard.press("Enter")
        page.wait_for_selector("#saved")
        assert page.locator("#manage-projects tbody tr").count() == 2
        assert page.get_by_text("from idea").count() == 1
        page.locator("#manage-projects a").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#project-form")
        assert axe_violations(page) == []
        _shot(page, "budget-steward-project")
        page.goto(f"{server.url}{PREFIX}/{bid}/manage")
        page.locator("#codes-count").focus()
        page.keyboard.type("4")
        page.keyboard.press("Enter")
        page.wait_for_selector("#codes-once")
        assert page.locator(".budget-code").count() == 4
        assert axe_violations(page) == []
        _shot(page, "budget-steward-codes")
        assert page.errors == []
    finally:
        context.close()
