"""The write matrix (see test_write_matrix.py) for participation: Open311 services and the staff's updates and
moderation of requests, planning projects and the moderation of their contributions, participatory budgets and
their projects, phases and voting codes.

These objects belong to an organisation, not to a dataset, so the access level does not apply: each write is
tried by the 13 callers against an object of ``orga``. Only a steward of ``orga`` or a steward (or admin) of the
whole platform writes; the anonymous caller gets 401, any other 403, and then nothing has changed. Taking part
(contributions, comments, ratings) is open to every signed-in caller; a contribution is changed only by its author. The errors are in each API's format: the
Open311 list of ``{code, description}``, problem details elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.governance.test_write_matrix import (
    ADMIN,
    CALLERS,
    OwnedPath,
    Request,
    World,
    attempt,
    check_owned,
    open_world,
    owner_rule,
)

AREA = {"type": "Polygon", "coordinates": [[[9.9, 53.4], [10.1, 53.4], [10.1, 53.6], [9.9, 53.6], [9.9, 53.4]]]}
POINT = {"type": "Point", "coordinates": [10.0, 53.5]}
OPEN311 = "/open311/v2"
PROJECTS = "/participation/projects"
BUDGETS = "/participation/budgets"
PLANNING_CSRF = "urbanos_planning_csrf"
STAFF_CSRF = "urbanos_participation_csrf"
BUDGET_CSRF = "urbanos_budget_csrf"
STEWARD_PAGE = owner_rule(anonymous=(404,))  # the stewards' pages are not there for a caller not signed in


def _admin(w: World, method: str, url: str, status: int = 201, **kwargs: Any) -> Any:
    r = w.client.request(method, url, headers=ADMIN, **kwargs)
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def _service(w: World, code: str | None = None) -> str:
    code = code or f"svc-{w.fresh()}"
    _admin(w, "POST", f"{OPEN311}/services.json", json={"service_code": code, "service_name": "Pothole",
                                                        "organization": "orga"})
    return code


def _budget(w: World, phase: str = "ideas") -> str:
    name = f"budget-{w.fresh()}"
    _admin(w, "POST", BUDGETS, json={"name": name, "title": "Budget", "owner_org": "orga", "amount": 1000})
    _admin(w, "POST", f"{BUDGETS}/{name}/projects", json={"title": "Benches", "cost": 100})
    for step in ("review", "vote", "results")[:("ideas", "review", "vote", "results").index(phase)]:
        _admin(w, "PATCH", f"{BUDGETS}/{name}", 200, json={"phase": step})
    return name


def _idea(w: World) -> tuple[str, int]:
    """A budget in its review phase with one proposed idea to decide."""
    name = _budget(w)
    idea = _admin(w, "POST", f"{BUDGETS}/{name}/ideas", json={"title": "Trees", "description": "Shade.", "cost": 10})
    _admin(w, "PATCH", f"{BUDGETS}/{name}", 200, json={"phase": "review"})
    return name, int(idea["id"])


def _decide(w: World, page: bool) -> Request:
    name, idea = _idea(w)
    if page:
        return _form(w, f"{BUDGETS}/{name}/manage/ideas/{idea}", {"status": "rejected", "reason": "Not ours."})
    return "POST", f"{BUDGETS}/{name}/ideas/{idea}/decision", {"json": {"status": "accepted", "cost": 12}}


def _project(w: World) -> str:
    name = f"plan-{w.fresh()}"
    _admin(w, "POST", PROJECTS, json={"name": name, "owner_org": "orga", "title": "Square", "area": AREA,
                                      "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2100-01-01T00:00:00Z",
                                      "categories": ["idea", "problem"]})
    return name


def _build(w: World) -> None:
    ids: dict[str, Any] = {"service": _service(w, "potholes")}
    r = w.client.post(f"{OPEN311}/requests.json", headers=ADMIN, data={
        "service_code": "potholes", "lat": "53.5", "long": "10.0", "description": "A hole"})
    assert r.status_code == 200, r.text
    ids["request"] = r.json()[0]["service_request_id"]
    ids["project"] = _project(w)
    for key in ("contribution", "moderated"):  # one to comment on and rate, one to hide and show
        ids[key] = _admin(w, "POST", f"{PROJECTS}/{ids['project']}/contributions", json={
            "title": "Trees", "text": "More trees", "category": "idea", "geometry": POINT})["id"]
    ids["comment"] = _admin(w, "POST", f"{PROJECTS}/{ids['project']}/contributions/{ids['contribution']}/comments",
                            json={"text": "Yes"})["id"]
    ids["budget"] = _budget(w)
    ids["review"] = _budget(w, "review")
    ids["review_project"] = _admin(w, "GET", f"{BUDGETS}/{ids['review']}", 200)["projects"][0]["id"]
    w.ids["owned"] = ids


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = {"participation_posts_per_minute": 100000, "participation_posts_per_minute_per_address": 100000}
    with open_world(tmp_path_factory.mktemp("participation"), **settings) as w:
        _build(w)
        yield w


def _ids(w: World) -> dict[str, Any]:
    return w.ids["owned"]  # type: ignore[no-any-return]


def _signed_in(role: str | None, scope: str | None) -> tuple[int, ...] | None:
    return (401,) if role is None else None


def _form(w: World, url: str, fields: dict[str, str]) -> Request:
    return "POST", url, {"data": fields}


PATHS: tuple[OwnedPath, ...] = (
    # Open311 (GeoReport v2 with the platform's service management)
    OwnedPath("open311: POST services.json for the organisation", lambda w: (
        "POST", f"{OPEN311}/services.json", {"json": {"service_code": f"new-{w.fresh()}", "service_name": "Graffiti",
                                                      "organization": "orga"}})),
    OwnedPath("open311: PUT services/{code}.json", lambda w: (
        "PUT", f"{OPEN311}/services/{_ids(w)['service']}.json",
        {"json": {"service_name": f"Potholes {w.fresh()}", "organization": "orga"}})),
    OwnedPath("open311: PUT services/{code}.json moving it to the caller's organisation", lambda w: (
        "PUT", f"{OPEN311}/services/{_service(w)}.json", {"json": {"service_name": "Taken", "organization": "orgb"}}),
        expect=lambda r, s: None if (r in ("steward", "admin") and s is None) else (401,) if r is None else (403,)),
    OwnedPath("open311: DELETE services/{code}.json", lambda w: ("DELETE", f"{OPEN311}/services/{_service(w)}.json", {})),
    OwnedPath("open311: POST requests.json (any signed-in caller reports)", lambda w: _form(
        w, f"{OPEN311}/requests.json", {"service_code": "potholes", "lat": "53.5", "long": "10.0", "description": "Hole"}),
        expect=_signed_in),
    OwnedPath("open311: staff update of a request (status, notes, agency)", lambda w: _form(
        w, f"{OPEN311}/requests/{_ids(w)['request']}/updates.json",
        {"status": ("acknowledged", "in_progress")[w.fresh() % 2], "status_notes": "seen", "agency_responsible": "Roads"})),
    OwnedPath("open311: moderation of a request", lambda w: _form(
        w, f"{OPEN311}/requests/{_ids(w)['request']}/moderation.json",
        {"hidden": ("true", "false")[w.fresh() % 2], "reason": "personal data"})),
    OwnedPath("participation: staff page's update form (cookie and CSRF)", lambda w: _form(
        w, f"/participation/staff/requests/{_ids(w)['request']}",
        {"status": ("acknowledged", "in_progress")[w.fresh() % 2]}), form_cookie=STAFF_CSRF),
    # planning projects
    OwnedPath("planning: POST projects for the organisation", lambda w: (
        "POST", PROJECTS, {"json": {"name": f"new-{w.fresh()}", "owner_org": "orga", "title": "T", "area": AREA,
                                    "starts_at": "2026-01-01", "ends_at": "2027-01-01", "categories": ["a"]}})),
    OwnedPath("planning: PATCH a project", lambda w: (
        "PATCH", f"{PROJECTS}/{_ids(w)['project']}", {"json": {"title": f"Square {w.fresh()}"}})),
    OwnedPath("planning: close a project", lambda w: ("PATCH", f"{PROJECTS}/{_project(w)}", {"json": {"closed": True}})),
    OwnedPath("planning: moderate a contribution", lambda w: (
        "POST", f"{PROJECTS}/{_ids(w)['project']}/contributions/{_ids(w)['moderated']}/moderation",
        {"json": {"hidden": bool(w.fresh() % 2), "reason": "off topic"}})),
    OwnedPath("planning: moderate a comment", lambda w: (
        "POST", f"{PROJECTS}/{_ids(w)['project']}/contributions/{_ids(w)['contribution']}/moderation",
        {"json": {"comment": _ids(w)["comment"], "hidden": bool(w.fresh() % 2), "reason": "rude"}})),
    OwnedPath("planning: show a hidden item again through the page's form (cookie and CSRF)", lambda w: _form(
        w, f"{PROJECTS}/{_ids(w)['project']}/unhide", {"contribution": str(_ids(w)["moderated"])}),
        form_cookie=PLANNING_CSRF),
    OwnedPath("planning: edit a contribution (only its author: the platform's admin token made it)", lambda w: (
        "PATCH", f"{PROJECTS}/{_ids(w)['project']}/contributions/{_ids(w)['contribution']}",
        {"json": {"title": f"Trees {w.fresh()}"}}), expect=lambda r, s: (401,) if r is None else (403,)),
    OwnedPath("planning: contribute (any signed-in caller)", lambda w: (
        "POST", f"{PROJECTS}/{_ids(w)['project']}/contributions",
        {"json": {"title": "Idea", "text": "A bench", "category": "idea", "geometry": POINT}}), expect=_signed_in),
    OwnedPath("planning: contribute through the page's form (cookie and CSRF)", lambda w: _form(
        w, f"{PROJECTS}/{_ids(w)['project']}/contribute",
        {"title": "Idea", "text": "A bench", "category": "idea", "lat": "53.5", "lon": "10.0"}),
        expect=_signed_in, form_cookie=PLANNING_CSRF),
    OwnedPath("planning: comment (any signed-in caller)", lambda w: (
        "POST", f"{PROJECTS}/{_ids(w)['project']}/contributions/{_ids(w)['contribution']}/comments",
        {"json": {"text": "Agreed"}}), expect=_signed_in),
    OwnedPath("planning: rate (any signed-in caller)", lambda w: (
        "PUT", f"{PROJECTS}/{_ids(w)['project']}/contributions/{_ids(w)['contribution']}/rating",
        {"json": {"value": 1}}), expect=_signed_in),
    # participatory budgets
    OwnedPath("budgets: POST budgets for the organisation", lambda w: (
        "POST", BUDGETS, {"json": {"name": f"new-{w.fresh()}", "title": "B", "owner_org": "orga", "amount": 10}})),
    OwnedPath("budgets: PATCH the phase (to the feasibility review)", lambda w: (
        "PATCH", f"{BUDGETS}/{_budget(w)}", {"json": {"phase": "review"}})),
    OwnedPath("budgets: open the vote", lambda w: ("PATCH", f"{BUDGETS}/{_budget(w, 'review')}", {"json": {"phase": "vote"}})),
    OwnedPath("budgets: close the vote", lambda w: ("PATCH", f"{BUDGETS}/{_budget(w, 'vote')}", {"json": {"phase": "results"}})),
    OwnedPath("budgets: POST a project", lambda w: (
        "POST", f"{BUDGETS}/{_ids(w)['budget']}/projects", {"json": {"title": f"Trees {w.fresh()}", "cost": 50}})),
    OwnedPath("budgets: review a project (feasible, cost)", lambda w: (
        "PATCH", f"{BUDGETS}/{_ids(w)['review']}/projects/{_ids(w)['review_project']}",
        {"json": {"feasible": True, "cost": 100 + w.fresh()}})),
    OwnedPath("budgets: make voting codes", lambda w: (
        "POST", f"{BUDGETS}/{_budget(w, 'vote')}/codes", {"json": {"count": 2}})),
    OwnedPath("budgets: propose an idea (any signed-in caller)", lambda w: (
        "POST", f"{BUDGETS}/{_ids(w)['budget']}/ideas", {"json": {"title": "Idea", "description": "A bench",
                                                                 "cost": 5}}), expect=_signed_in),
    OwnedPath("budgets: propose an idea through the page's form (cookie and CSRF)", lambda w: _form(
        w, f"{BUDGETS}/{_ids(w)['budget']}/propose", {"title": "Idea", "description": "A bench", "cost": "5"}),
        expect=_signed_in, form_cookie=BUDGET_CSRF),
    OwnedPath("budgets: decide an idea (it becomes a project)", lambda w: _decide(w, page=False)),
    # the stewards' pages (portal cookie and CSRF token)
    OwnedPath("budgets page: create a budget", lambda w: _form(
        w, f"{BUDGETS}/new", {"name": f"page-{w.fresh()}", "title": "B", "owner_org": "orga", "amount": "10"}),
        expect=STEWARD_PAGE, form_cookie=BUDGET_CSRF),
    OwnedPath("budgets page: add a project", lambda w: _form(
        w, f"{BUDGETS}/{_ids(w)['budget']}/manage/projects", {"title": f"Bench {w.fresh()}", "cost": "50"}),
        expect=STEWARD_PAGE, form_cookie=BUDGET_CSRF),
    OwnedPath("budgets page: review a project (keep, reason, cost)", lambda w: _form(
        w, f"{BUDGETS}/{_ids(w)['review']}/manage/projects/{_ids(w)['review_project']}",
        {"title": "Benches", "cost": str(100 + w.fresh()), "feasible": "1", "reason": "Checked."}),
        expect=STEWARD_PAGE, form_cookie=BUDGET_CSRF),
    OwnedPath("budgets page: decide an idea", lambda w: _decide(w, page=True), expect=STEWARD_PAGE,
              form_cookie=BUDGET_CSRF),
    OwnedPath("budgets page: the next phase (confirmed)", lambda w: _form(
        w, f"{BUDGETS}/{_budget(w)}/manage/phase", {"phase": "review"}), expect=STEWARD_PAGE, form_cookie=BUDGET_CSRF),
    OwnedPath("budgets page: letter codes", lambda w: _form(
        w, f"{BUDGETS}/{_budget(w, 'vote')}/manage/codes", {"count": "2"}), expect=STEWARD_PAGE,
        form_cookie=BUDGET_CSRF),
)


def matrix_size() -> tuple[int, int, int, int]:
    return len(PATHS), len(CALLERS), 1, len(PATHS) * len(CALLERS)


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_write_matrix_participation(world: World, path: OwnedPath) -> None:
    problems = check_owned(world, path)
    assert not problems, "\n".join(problems)


def test_open311_refusals_are_in_open311_format(world: World) -> None:
    """A refused Open311 write answers the spec's error list, in JSON or XML as the path asks."""
    code = _ids(world)["service"]
    for who, status in (("anonymous", 401), ("steward:orgb", 403), ("publisher:orga", 403)):
        for fmt in ("json", "xml"):
            r = attempt(world, who, ("PUT", f"{OPEN311}/services/{code}.{fmt}", {"json": {"service_name": "x"}}))
            assert r.status_code == status, r.text
            if fmt == "json":
                assert r.json()[0]["code"] == status and r.json()[0]["description"], r.text
            else:
                assert r.text.startswith("<?xml") and "<errors>" in r.text, r.text


def test_objects_of_another_organisation_are_not_linked(world: World) -> None:
    """A steward of ``orgb`` cannot put its budget's project, moderation or review onto ``orga``'s objects: each is
    found under the budget (or project) the path names, and a budget of ``orgb`` has no project of ``orga``."""
    headers = world.headers["steward:orgb"]
    own = f"b-{world.fresh()}"
    assert world.client.post(BUDGETS, headers=headers, json={"name": own, "title": "B", "owner_org": "orgb",
                                                             "amount": 10}).status_code == 201
    assert world.client.post(f"{BUDGETS}/{own}/projects", headers=headers, json={"title": "x"}).status_code == 201
    assert world.client.patch(f"{BUDGETS}/{own}", headers=headers, json={"phase": "review"}).status_code == 200
    before = world.snapshot()
    ids = _ids(world)
    r = world.client.patch(f"{BUDGETS}/{own}/projects/{ids['review_project']}", headers=headers, json={"feasible": False})
    assert r.status_code == 404, r.text
    assert world.snapshot() == before
    mine = f"p-{world.fresh()}"
    assert world.client.post(PROJECTS, headers=headers, json={
        "name": mine, "owner_org": "orgb", "title": "T", "area": AREA, "starts_at": "2020-01-01",
        "ends_at": "2100-01-01", "categories": ["a"]}).status_code == 201
    before = world.snapshot()
    r = world.client.post(f"{PROJECTS}/{mine}/contributions/{ids['moderated']}/moderation", headers=headers,
                          json={"hidden": True, "reason": "x"})
    assert r.status_code == 404, r.text
    assert world.snapshot() == before



@pytest.mark.parametrize("level", ["open", "confidential"])
def test_a_project_naming_another_organisations_boundaries_shows_only_what_its_viewer_reads(
        world: World, level: str) -> None:
    """A project of ``orgb`` may name ``orga``'s feature collection as its boundaries when its steward may read it;
    one it may not read is refused as one that does not exist, and nothing is stored. The heat map reads the
    districts as its viewer: a collection linked by someone who may read it (the admin) and the viewer may not is
    answered 404 and shows none of its districts."""
    name = f"bounded-{level}"
    body = {"name": name, "owner_org": "orgb", "title": "T", "area": AREA, "starts_at": "2020-01-01",
            "ends_at": "2100-01-01", "categories": ["a"], "boundaries": world.ids[level]["collection"]}
    before = world.snapshot()
    r = world.client.post(PROJECTS, headers=world.headers["steward:orgb"], json=body)
    if level != "open":
        assert r.status_code == 400 and r.json()["code"] == "unknown_boundaries", r.text
        assert world.snapshot() == before
        r = world.client.post(PROJECTS, headers=ADMIN, json=body)
    assert r.status_code == 201, r.text
    for who in ("anonymous", "steward:orgb"):
        r = attempt(world, who, ("GET", f"{PROJECTS}/{name}/heatmap.json", {}))
        assert r.status_code == (200 if level == "open" else 404), r.text
        assert level == "open" or "district" not in r.text, r.text
