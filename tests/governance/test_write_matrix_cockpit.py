"""The write matrix (see test_write_matrix.py) for the cockpit and the connectors' management: the registry of
showcases and applications (ckanext-showcase's actions) and their links to datasets, the dashboards made in the
portal, and connectors changed, run and removed through the API and the portal's forms (sign-in cookie and CSRF).

Showcases and dashboards belong to an organisation: a publisher of ``orga`` or a publisher (or higher) of the whole
platform writes them, moving one to another organisation needs the role there too. What they link (a dataset, the
Datastreams a panel reads) must be readable by the writer: a dataset or Datastream it may not read is answered as
one that does not exist (404, or the form shown again with the problem, 400). Connectors follow their dataset:
the rule of the main matrix, per access level."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import free_port
from tests.governance.test_write_matrix import (
    ADMIN,
    CALLERS,
    CKAN_ANONYMOUS,
    LEVELS,
    RANK,
    OwnedPath,
    Request,
    World,
    WritePath,
    _sees,
    check_callers,
    check_owned,
    check_path,
    open_world,
    owner_rule,
)

DASH_CSRF = "urbanos_dashboards_csrf"
CONNECTORS_CSRF = "urbanos_connectors_csrf"
DEFINITION = "title: Counters\npanels:\n  - type: table\n    title: All\n    sta: \"Datastreams?$filter=name eq 'x'\"\n"


def _showcase(w: World, org: str = "orga") -> str:
    name = f"sc-{w.fresh()}"
    assert w.ckan("ckanext_showcase_create", {"name": name, "owner_org": org}).status_code == 200
    return name


def _dashboard(w: World) -> str:
    slug = f"dash-{w.fresh()}"
    r = w.client.post("/dashboards/new", headers=ADMIN, data={"slug": slug, "organization": "orga",
                                                               "definition": DEFINITION})
    assert r.status_code == 303, r.text
    return slug


def _feed() -> str:
    return f"http://127.0.0.1:{free_port()}/feed.csv"  # nothing listens: a run fails at once, and is recorded


def _connector(w: World, ids: dict[str, Any]) -> str:
    name = f"feed-{w.fresh()}"
    r = w.client.post("/connectors", headers=ADMIN, json={
        "name": name, "type": "csv", "url": _feed(), "dataset": ids["ds"], "every": "1h",
        "mapping": {"datastream": ids["stream"], "time": "t", "result": "v"}})
    assert r.status_code == 201, r.text
    return name


def _ckan(action: str, body: Callable[[World], dict[str, Any]]) -> Callable[[World], Request]:
    return lambda w: ("POST", f"/api/3/action/{action}", {"json": body(w)})


def _everywhere(role: str, anonymous: tuple[int, ...] = (401,)) -> Callable[[str | None, str | None], tuple[int, ...] | None]:
    """A move from ``orga`` to ``orgb``: only ``role`` of the whole platform holds it for both."""
    return lambda r, s: None if r is not None and RANK[r] >= RANK[role] and s is None else anonymous if r is None else (403,)


SHOWCASE = owner_rule("publisher", anonymous=CKAN_ANONYMOUS)
DASHBOARD = owner_rule("publisher")

OWNED: tuple[OwnedPath, ...] = (
    OwnedPath("showcases: ckanext_showcase_create in the organisation", _ckan(
        "ckanext_showcase_create", lambda w: {"name": f"new-{w.fresh()}", "owner_org": "orga"}), SHOWCASE),
    OwnedPath("showcases: ckanext_showcase_patch", _ckan(
        "ckanext_showcase_patch", lambda w: {"id": w.ids["owned"]["showcase"], "notes": f"n{w.fresh()}"}), SHOWCASE),
    OwnedPath("showcases: ckanext_showcase_update", _ckan(
        "ckanext_showcase_update", lambda w: {"name": w.ids["owned"]["showcase"], "title": f"t{w.fresh()}",
                                              "owner_org": "orga"}), SHOWCASE),
    OwnedPath("showcases: ckanext_showcase_patch linking an application (a token of the organisation)", _ckan(
        "ckanext_showcase_patch", lambda w: {"id": w.ids["owned"]["showcase"], "applications": ["reader:orga app"]}),
        SHOWCASE),
    OwnedPath("showcases: ckanext_showcase_patch moving it to another organisation", _ckan(
        "ckanext_showcase_patch", lambda w: {"id": _showcase(w), "owner_org": "orgb"}),
        _everywhere("publisher", CKAN_ANONYMOUS)),
    OwnedPath("showcases: ckanext_showcase_delete", _ckan(
        "ckanext_showcase_delete", lambda w: {"id": _showcase(w)}), SHOWCASE),
    OwnedPath("dashboards: the portal's form creates one for the organisation", lambda w: (
        "POST", "/dashboards/new", {"data": {"slug": f"new-{w.fresh()}", "organization": "orga",
                                             "definition": DEFINITION}}), DASHBOARD, form_cookie=DASH_CSRF),
    OwnedPath("dashboards: the portal's form changes one", lambda w: (
        "POST", f"/dashboards/{w.ids['owned']['dashboard']}/edit",
        {"data": {"organization": "orga", "definition": DEFINITION.replace("Counters", f"C{w.fresh()}")}}),
        DASHBOARD, form_cookie=DASH_CSRF),
    OwnedPath("dashboards: the portal's form moves one to another organisation", lambda w: (
        "POST", f"/dashboards/{_dashboard(w)}/edit", {"data": {"organization": "orgb", "definition": DEFINITION}}),
        _everywhere("publisher"), form_cookie=DASH_CSRF),
    OwnedPath("dashboards: the portal's form deletes one", lambda w: (
        "POST", f"/dashboards/{_dashboard(w)}/delete", {"data": {}}), DASHBOARD, form_cookie=DASH_CSRF),
)

def _alert(w: World, ids: dict[str, Any]) -> int:
    r = w.client.post("/alerts/rules", headers=ADMIN, json={"name": f"rule {w.fresh()}", "datastream": ids["stream"],
                                                             "threshold": {"operator": ">", "fire": 100}})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


# Alert rules (their creation is in the main matrix) and connectors: the rule of their dataset (publisher of its organisation), through the API and the portal's forms.
CONNECTORS: tuple[WritePath, ...] = (
    WritePath("alerts: PATCH /alerts/rules/{id}", lambda w, ids: (
        "PATCH", f"/alerts/rules/{ids['alert']}", {"json": {"name": f"renamed {w.fresh()}"}})),
    WritePath("alerts: DELETE /alerts/rules/{id}", lambda w, ids: ("DELETE", f"/alerts/rules/{_alert(w, ids)}", {})),
    WritePath("connectors: PATCH /connectors/{name}", lambda w, ids: (
        "PATCH", f"/connectors/{ids['connector']}", {"json": {"every": f"{1 + w.fresh() % 50}h"}})),
    WritePath("connectors: DELETE /connectors/{name}", lambda w, ids: ("DELETE", f"/connectors/{_connector(w, ids)}", {})),
    WritePath("connectors: POST /connectors/{name}/run", lambda w, ids: (
        "POST", f"/connectors/{ids['connector']}/run", {})),
    WritePath("connectors: the portal's form creates one in the dataset", lambda w, ids: (
        "POST", "/connectors/new", {"data": {
            "name": f"form-{w.fresh()}", "type": "csv", "url": _feed(), "dataset": ids["ds"], "every": "1h",
            "mapping": f"datastream: {ids['stream']}\ntime: t\nresult: v\n"}}), form_cookie=CONNECTORS_CSRF),
    WritePath("connectors: the portal's form changes one", lambda w, ids: (
        "POST", f"/connectors/{ids['connector']}/edit", {"data": {
            "url": _feed(), "every": f"{1 + w.fresh() % 50}h",
            "mapping": f"datastream: {ids['stream']}\ntime: t\nresult: v\n"}}), form_cookie=CONNECTORS_CSRF),
    WritePath("connectors: the portal's form deletes one", lambda w, ids: (
        "POST", f"/connectors/{_connector(w, ids)}/delete", {"data": {}}), form_cookie=CONNECTORS_CSRF),
    WritePath("connectors: the portal's run-now form", lambda w, ids: (
        "POST", f"/connectors/{ids['connector']}/run-now", {"data": {}}), form_cookie=CONNECTORS_CSRF),
)


@dataclass(frozen=True)
class LinkPath:
    """A write of an object of ``orga`` that links the dataset (or a Datastream) of each access level."""
    name: str
    build: Callable[[World, dict[str, Any]], Request]
    role: str = "publisher"
    anonymous: tuple[int, ...] = (401,)
    hidden: tuple[int, ...] = (404,)  # what the writer gets when it may not read what is linked
    form_cookie: str | None = None

    def expect(self, level: str) -> Callable[[str | None, str | None], tuple[int, ...] | None]:
        def rule(r: str | None, s: str | None) -> tuple[int, ...] | None:
            if r is None:
                return self.anonymous
            if RANK[r] < RANK[self.role] or s not in ("orga", None):
                return (403,)  # the object's organisation is checked first
            return None if _sees(r, s, level) else self.hidden
        return rule


LINKS: tuple[LinkPath, ...] = (
    LinkPath("showcases: package_association_create (the dataset into a showcase)", lambda w, ids: (
        "POST", "/api/3/action/ckanext_showcase_package_association_create",
        {"json": {"showcase_id": _showcase(w), "package_id": ids["ds"]}}), anonymous=CKAN_ANONYMOUS),
    LinkPath("showcases: package_association_delete", lambda w, ids: (
        "POST", "/api/3/action/ckanext_showcase_package_association_delete",
        {"json": {"showcase_id": _linked(w, ids), "package_id": ids["ds"]}}), anonymous=CKAN_ANONYMOUS),
    LinkPath("dashboards: the portal's form creates one reading the dataset's Datastream", lambda w, ids: (
        "POST", "/dashboards/new", {"data": {"slug": f"reads-{w.fresh()}", "organization": "orga", "definition":
                                             f"title: T\npanels:\n  - type: table\n    title: T\n"
                                             f"    datastreams: [{ids['stream']}]\n"}}),
        hidden=(400,), form_cookie=DASH_CSRF),
)


def _linked(w: World, ids: dict[str, Any]) -> str:
    name = _showcase(w)
    r = w.ckan("ckanext_showcase_package_association_create", {"showcase_id": name, "package_id": ids["ds"]})
    assert r.status_code == 200, r.text
    return name


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    quiet = {"connectors_scheduler": False, "connectors_retries": 0}  # runs only when a test asks for one
    with open_world(tmp_path_factory.mktemp("cockpit"), **quiet) as w:
        w.ids["owned"] = {"showcase": _showcase(w), "dashboard": _dashboard(w)}
        for level in LEVELS:
            w.ids[level]["connector"] = _connector(w, w.ids[level])
            w.ids[level]["alert"] = _alert(w, w.ids[level])
        yield w


def matrix_size() -> tuple[int, int, int, int]:
    per_level = len(CONNECTORS) + len(LINKS)
    return len(OWNED) + per_level, len(CALLERS), len(LEVELS), (len(OWNED) + per_level * len(LEVELS)) * len(CALLERS)


@pytest.mark.parametrize("path", OWNED, ids=[p.name for p in OWNED])
def test_write_matrix_cockpit(world: World, path: OwnedPath) -> None:
    problems = check_owned(world, path)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("path", CONNECTORS, ids=[p.name for p in CONNECTORS])
def test_write_matrix_connectors(world: World, path: WritePath, level: str) -> None:
    problems = check_path(world, path, level)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("path", LINKS, ids=[p.name for p in LINKS])
def test_write_matrix_links(world: World, path: LinkPath, level: str) -> None:
    ids = world.ids[level]
    problems = check_callers(world, lambda: path.build(world, ids), path.expect(level), form_cookie=path.form_cookie)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("level", LEVELS)
def test_objects_of_orgb_link_only_what_it_may_read(world: World, level: str) -> None:
    """A publisher of ``orgb`` links ``orga``'s dataset to its own showcase, and reads ``orga``'s Datastream in its
    own dashboard, only when it may read them (open, registered); otherwise the answer is that of a dataset or
    Datastream that does not exist, and nothing is stored."""
    ids, headers = world.ids[level], world.headers["publisher:orgb"]
    readable = level in ("open", "registered")
    mine = _showcase(world, "orgb")
    before = world.snapshot()
    r = world.ckan("ckanext_showcase_package_association_create", {"showcase_id": mine, "package_id": ids["ds"]}, headers)
    missing = world.ckan("ckanext_showcase_package_association_create", {"showcase_id": mine, "package_id": "no-such"},
                         headers)
    assert missing.status_code == 404
    if readable:
        assert r.status_code == 200, r.text
        assert world.ckan("ckanext_showcase_package_association_delete",
                          {"showcase_id": mine, "package_id": ids["ds"]}, headers).status_code == 200
    else:
        assert (r.status_code, r.json()["error"]) == (missing.status_code, missing.json()["error"]), r.text
    slug = f"b-{world.fresh()}"
    definition = f"title: T\npanels:\n  - type: table\n    title: T\n    datastreams: [{ids['stream']}]\n"
    r = world.client.post("/dashboards/new", headers=headers, data={"slug": slug, "organization": "orgb",
                                                                   "definition": definition})
    if readable:
        assert r.status_code == 303, r.text
        assert world.client.post(f"/dashboards/{slug}/delete", headers=headers).status_code == 303
    else:
        assert r.status_code == 400 and f"unknown Datastream {ids['stream']}" in r.text, r.text
    assert world.snapshot() == before
