"""The portal's dashboard form: anonymous callers cannot create, a publisher of another organisation cannot change
or delete a dashboard it does not own, malformed input gives the form back with its errors (and the line of each
problem in the definition) and stores nothing; the browser's sign-in cookie needs the form's CSRF token."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, api_token

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DEFINITION = ("title: Counters\ntitle_de: Zähler\npanels:\n  - type: table\n    title: All\n"
              "    sta: \"Datastreams?$filter=name eq 'x'\"\n")


class World:
    def __init__(self, client: Any, platform: Any) -> None:
        self.c, self.platform = client, platform
        for org in ("org-a", "org-b"):
            r = client.post("/api/3/action/organization_create", json={"name": org, "title": org}, headers=ADMIN)
            assert r.status_code == 200, r.text
        self.tokens = {"pub_a": api_token(client, "pa", "publisher", "org-a"),
                       "pub_b": api_token(client, "pb", "publisher", "org-b"),
                       "reader_a": api_token(client, "ra", "reader", "org-a"), "admin": ADMIN_TOKEN}

    def h(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def create(self, who: str | None, slug: str = "counters", org: str = "org-a", text: str = DEFINITION) -> Any:
        return self.c.post("/dashboards/new", data={"slug": slug, "organization": org, "definition": text},
                           headers=self.h(who), follow_redirects=False)

    def rows(self) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.platform.db.read_sync(
            lambda c: c.fetchall("SELECT slug, owner_org, definition FROM cockpit_dashboards ORDER BY slug"))]


@pytest.fixture
def world(client: Any, platform: Any) -> World:
    return World(client, platform)


def test_publisher_creates_edits_and_deletes_its_own_dashboard(world: World) -> None:
    r = world.create("pub_a")
    assert r.status_code == 303 and r.headers["location"] == "/dashboards/counters"
    page = world.c.get("/dashboards/counters")
    assert page.status_code == 200 and "Counters" in page.text
    assert "Zähler" in world.c.get("/dashboards/counters?lang=de").text
    listing = world.c.get("/dashboards", headers=world.h("pub_a")).text
    assert "/dashboards/counters/edit" in listing
    form = world.c.get("/dashboards/counters/edit", headers=world.h("pub_a"))
    assert form.status_code == 200 and "title: Counters" in form.text
    r = world.c.post("/dashboards/counters/edit", data={"organization": "org-a",
                                                        "definition": DEFINITION.replace("Counters", "Tally")},
                     headers=world.h("pub_a"), follow_redirects=False)
    assert r.status_code == 303
    assert "Tally" in world.c.get("/dashboards/counters").text
    r = world.c.post("/dashboards/counters/delete", data={}, headers=world.h("pub_a"), follow_redirects=False)
    assert r.status_code == 303 and world.rows() == []
    assert world.c.get("/dashboards/counters").status_code == 404


def test_anonymous_and_readers_cannot_create(world: World) -> None:
    assert world.create(None).status_code == 401
    assert world.create("reader_a").status_code == 403
    assert world.c.get("/dashboards/new").status_code == 401
    assert world.c.get("/dashboards/new", headers=world.h("reader_a")).status_code == 403
    assert world.rows() == []


def test_a_publisher_of_another_organisation_cannot_change_or_delete(world: World) -> None:
    assert world.create("pub_a").status_code == 303
    before = world.rows()
    other = world.h("pub_b")
    assert world.create("pub_b", slug="stolen", org="org-a").status_code == 403
    assert world.c.get("/dashboards/counters/edit", headers=other).status_code == 403
    r = world.c.post("/dashboards/counters/edit", data={"organization": "org-b", "definition": DEFINITION},
                     headers=other)
    assert r.status_code == 403
    r = world.c.post("/dashboards/counters/edit", data={"organization": "org-a", "definition": DEFINITION},
                     headers=other)
    assert r.status_code == 403
    assert world.c.post("/dashboards/counters/delete", data={}, headers=other).status_code == 403
    assert world.c.post("/dashboards/counters/delete", data={}).status_code == 401
    # moving it to another organisation needs the publisher role there too
    r = world.c.post("/dashboards/counters/edit", data={"organization": "org-b", "definition": DEFINITION},
                     headers=world.h("pub_a"))
    assert r.status_code == 403
    assert world.rows() == before
    assert world.c.post("/dashboards/nope/edit", data={"definition": DEFINITION}, headers=ADMIN).status_code == 404


@pytest.mark.parametrize(("slug", "org", "text", "expect"), [
    ("counters", "org-a", "title: [unclosed\n", "definition:1"),
    ("counters", "org-a", "title: X\npanels:\n  - type: table\n    title: T\n    colour: red\n    sta: Datastreams\n",
     "definition:5: panels.0.colour: unknown key"),
    ("counters", "org-a", "title: X\npanels:\n  - type: table\n    title: T\n    datastreams: [424242]\n",
     "unknown Datastream 424242"),
    ("counters", "org-a", "title: X\npanels:\n  - type: table\n    title: T\n    sta: \"Datastreams?$filter=(\"\n",
     "bad query"),
    ("counters", "org-a", "", "the definition is empty"),
    ("Bad Slug!", "org-a", DEFINITION, "Address (slug)"),
    ("counters", "no-such-org", DEFINITION, "there is no organisation"),
    ("counters", "org-a", "title: X\n" + "x" * 70000, "longer than"),
])
def test_malformed_input_gives_the_form_back_with_errors(world: World, slug: str, org: str, text: str,
                                                         expect: str) -> None:
    r = world.c.post("/dashboards/new", data={"slug": slug, "organization": org, "definition": text},
                     headers=world.h("admin"))
    assert r.status_code == 400, r.text
    assert 'role="alert"' in r.text and expect in r.text.replace("&#39;", "'")
    assert world.rows() == []


def test_a_slug_in_use_and_a_body_that_is_no_form_are_refused(world: World) -> None:
    assert world.create("pub_a").status_code == 303
    r = world.create("pub_a")
    assert r.status_code == 400 and "exists already" in r.text
    r = world.c.post("/dashboards/new", json={"slug": "x"}, headers=world.h("pub_a"))
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert len(world.rows()) == 1


def test_the_sign_in_cookie_needs_the_forms_csrf_token(world: World) -> None:
    world.c.cookies.set("urbanos_portal_token", world.tokens["pub_a"])
    try:
        form = world.c.get("/dashboards/new")
        assert form.status_code == 200
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        data = {"slug": "counters", "organization": "org-a", "definition": DEFINITION}
        assert world.c.post("/dashboards/new", data=data, follow_redirects=False).status_code == 403
        assert world.rows() == []
        r = world.c.post("/dashboards/new", data={**data, "csrf": token.group(1)}, follow_redirects=False)
        assert r.status_code == 303
    finally:
        world.c.cookies.clear()
