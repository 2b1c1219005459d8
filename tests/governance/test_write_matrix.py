"""The write matrix: every write path × every caller × the access level of the target, on the back end under
test.

A city's organisation ``orga`` owns four datasets, one per access level, each with SensorThings entities, a
resource with a DataStore table, and a feature collection. Each write path is tried by every caller: the
anonymous public, and a reader, publisher, steward and admin scoped to ``orga`` (the owner), scoped to
``orgb`` (another organisation), or holding the role for the whole platform. A caller allowed to write
gets a 2xx; any other gets 401 (anonymous), 403 (it may see the target) or 404/400 (it may not, answered
as for a target that does not exist), and then nothing in the platform's tables has changed.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, api_token, fresh_db_url, settings_for
from urbanos.features import store

LEVELS = ("open", "registered", "internal", "confidential")
ROLES = ("reader", "publisher", "steward", "admin")
SCOPES = ("orga", "orgb", None)  # the owner, another organisation, the whole platform
CALLERS: tuple[tuple[str | None, str | None], ...] = ((None, None), *itertools.product(ROLES, SCOPES))
RANK = {r: i for i, r in enumerate(ROLES)}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# Tables whose rows change on reads (usage counts, token use) are left out of the comparison, and so is the audit
# trail: it is an append-only record of activity (reads of non-open data, written in batches after the request that
# made them), not data a write may change; tests/privacy checks what it records.
VOLATILE = ("catalog_usage", "api_tokens", "credentials_version", "schema_migrations", "privacy_audit_")

FEATURE = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.0, 53.5]},
           "properties": {"name": "written", "pop": 1}}


def _label(role: str | None, scope: str | None) -> str:
    return "anonymous" if role is None else f"{role}:{scope or 'global'}"


def _sees(role: str | None, scope: str | None, level: str) -> bool:
    """May the caller read the target dataset (the gate's rule)?"""
    if level == "open":
        return True
    if role is None:
        return False
    if role == "admin" and scope is None:
        return True
    if level == "registered":
        return True
    if level == "internal":
        return scope == "orga"
    return False


@dataclass
class World:
    client: Any
    platform: Any
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, dict[str, Any]] = field(default_factory=dict)
    counter: Iterator[int] = field(default_factory=itertools.count)

    def ckan(self, action: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return self.client.post(f"/api/3/action/{action}", json=body, headers=ADMIN if headers is None else headers)

    def ok(self, action: str, body: dict[str, Any]) -> Any:
        r = self.ckan(action, body)
        assert r.status_code == 200, r.text
        return r.json()["result"]

    def sta(self, path: str, body: Any, headers: dict[str, str] | None = None) -> int:
        r = self.client.post(f"/sta/v1.1/{path}", json=body, headers=headers or self.headers["publisher:orga"])
        assert r.status_code == 201, r.text
        return int(r.json()["@iot.id"])

    def fresh(self) -> int:
        return next(self.counter)

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        def dump(c: Any) -> dict[str, list[tuple[Any, ...]]]:
            if c.dialect.name == "sqlite":
                names = [r[0] for r in c.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'"
                                                  " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_rtree%'"
                                                  " AND name NOT LIKE '%fts%'")]
            else:
                names = [r[0] for r in c.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
            out = {}
            for name in sorted(names):
                if name.startswith(VOLATILE):
                    continue
                rows = c.fetchall(f'SELECT * FROM "{name}"')
                out[name] = sorted(tuple(repr(v) for v in r) for r in rows)
            return out

        return self.platform.db.read_sync(dump)  # type: ignore[no-any-return]


def _build(client: Any, platform: Any) -> World:
    w = World(client, platform)
    for org in ("orga", "orgb"):
        w.ok("organization_create", {"name": org, "title": org.upper()})
    w.ok("group_create", {"name": "mobility", "title": "Mobility"})
    for role, scope in CALLERS:
        if role is not None:
            secret = api_token(client, f"{_label(role, scope)} app", role, scope)
            w.headers[_label(role, scope)] = {"Authorization": f"Bearer {secret}"}
    w.headers["anonymous"] = {}
    for level in LEVELS:
        ids: dict[str, Any] = {"ds": f"ds-{level}"}
        pkg = w.ok("package_create", {"name": ids["ds"], "title": f"Data {level}", "owner_org": "orga",
                                      "access_level": level, "grounds": "security" if level != "open" else ""})
        ids["pkg_id"] = pkg["id"]
        ids["thing"] = w.sta("Things", {"name": f"thing {level}", "properties": {"urbanos:dataset": ids["ds"]},
                                        "Locations": [{"name": "here", "description": "d", "encodingType": "application/geo+json",
                                                       "location": {"type": "Point", "coordinates": [10.0, 53.5]}}]})
        for key in ("stream", "stream2"):
            ids[key] = w.sta("Datastreams", {
                "name": f"{key} {level}", "description": "d", "observationType": "OM_Measurement",
                "unitOfMeasurement": {"name": "n", "symbol": "n", "definition": "n"},
                "Thing": {"@iot.id": ids["thing"]},
                "Sensor": {"name": "s", "description": "d", "encodingType": "text/plain", "metadata": "m"},
                "ObservedProperty": {"name": "p", "definition": "d", "description": "d"},
                "properties": {"urbanos:dataset": ids["ds"]}})
        res = w.ok("resource_create", {"package_id": ids["ds"], "name": f"table {level}", "format": "CSV",
                                      "url": "https://example.org/table.csv"})
        ids["resource"] = res["id"]
        w.ok("datastore_create", {"resource_id": res["id"], "fields": [{"id": "code", "type": "text"}, {"id": "n", "type": "int"}],
                                  "records": [{"code": "a", "n": 1}], "primary_key": "code"})
        ids["collection"] = f"col-{level}"
        meta = platform.db.write_sync(lambda c, lv=level, p=pkg: store.replace_collection(
            c, f"col-{lv}", [{"name": "name", "type": "string"}, {"name": "pop", "type": "integer"}],
            [({"name": "one", "pop": 1}, None)], dataset_id=int(_dataset_id(platform, p["name"]))))
        assert meta is not None
        w.ids[level] = ids
    return w


def _dataset_id(platform: Any, name: str) -> int:
    return int(platform.db.read_sync(lambda c: c.fetchval("SELECT id FROM datasets WHERE name = ?", (name,))))


# -- the write paths ---------------------------------------------------------------------------------------
Request = tuple[str, str, dict[str, Any]]


@dataclass(frozen=True)
class WritePath:
    name: str
    build: Callable[[World, dict[str, Any]], Request]
    role: str = "publisher"  # the role needed, for the owning organisation
    global_only: bool = False  # a platform-wide action: only a role without organisation passes
    target_public: bool = False  # the target is public (an organisation), so a refusal is always 403
    status: Callable[[Any], int] = lambda r: int(r.status_code)  # the answer's status (a batch: its part's)
    anonymous: tuple[int, ...] = (401,)  # what the anonymous caller gets (CKAN answers 403 "Authorization Error")
    form_cookie: str | None = None  # a portal form: sent with the sign-in cookie and this CSRF cookie (see attempt)


Expect = Callable[[str | None, str | None], tuple[int, ...] | None]


def owner_rule(role: str = "steward", anonymous: tuple[int, ...] = (401,), others: tuple[int, ...] = (403,)) -> Expect:
    """The rule for an object ``orga`` owns (not a dataset): ``role`` of ``orga`` or of the whole platform writes;
    the anonymous caller gets ``anonymous``, any other ``others``."""
    def expect(r: str | None, scope: str | None) -> tuple[int, ...] | None:
        if r is not None and RANK[r] >= RANK[role] and scope in ("orga", None):
            return None
        return anonymous if r is None else others
    return expect


@dataclass(frozen=True)
class OwnedPath:
    """A write to an object of organisation ``orga`` that no dataset owns (the access level does not apply)."""
    name: str
    build: Callable[[World], Request]
    expect: Expect = owner_rule()
    status: Callable[[Any], int] = lambda r: int(r.status_code)
    form_cookie: str | None = None


def _obs(w: World, ids: dict[str, Any]) -> int:
    return w.sta(f"Datastreams({ids['stream']})/Observations", {"result": 1, "phenomenonTime": "2024-01-01T00:00:00Z"})


def _item(w: World, ids: dict[str, Any]) -> int:
    r = w.client.post(f"/ogcapi/collections/{ids['collection']}/items", json=FEATURE, headers=ADMIN)
    assert r.status_code == 201, r.text
    return int(r.headers["location"].rstrip("/").rsplit("/", 1)[1])


def _ckan(action: str, body: Callable[[World, dict[str, Any]], dict[str, Any]]) -> Callable[[World, dict[str, Any]], Request]:
    return lambda w, ids: ("POST", f"/api/3/action/{action}", {"json": body(w, ids)})


# An entry of the algorithm register (the Eurocities schema's required fields), owned by the target's organisation.
ALGORITHM: dict[str, Any] = {
    "owner_org": "orga", "description_short": "Green times", "organization": "City A", "department": "Mobility",
    "contact_email": "signals@example.org", "area": "City A", "domain": "traffic and transportation",
    "status": "operational", "decision_making_process": "Every cycle", "goal": "Less waiting", "impact": "Waiting times",
    "risks": "Detector faults", "risk_category": "limited", "proportionality": "Counts only", "lawful_basis": "Public task",
    "training_data": "None", "source_data": "Detector counts", "connected_data_sources": "Signal plans",
    "algorithm_type": "rule-based", "description": "Extends green phases", "monitoring": "Daily reports",
    "type": "prescriptive", "human_intervention": "Operators", "objection_procedure": "Write to the city", "lang": "en",
    "revision_date": "2027-01-01", "keywords": ["traffic"],
}


CKAN_ANONYMOUS = (403,)  # CKAN answers every refusal with 403 "Authorization Error", signed in or not


PATHS: tuple[WritePath, ...] = (
    # SensorThings
    WritePath("sta: POST Things in the dataset", lambda w, ids: (
        "POST", "/sta/v1.1/Things", {"json": {"name": "new", "properties": {"urbanos:dataset": ids["ds"]}}})),
    WritePath("sta: POST Observations linking the Datastream", lambda w, ids: (
        "POST", "/sta/v1.1/Observations", {"json": {"result": 2, "Datastream": {"@iot.id": ids["stream"]}}})),
    WritePath("sta: POST Datastreams(id)/Observations", lambda w, ids: (
        "POST", f"/sta/v1.1/Datastreams({ids['stream']})/Observations", {"json": {"result": 3}})),
    WritePath("sta: move an Observation to another Datastream", lambda w, ids: (
        "POST", f"/sta/v1.1/Datastreams({ids['stream2']})/Observations", {"json": {"@iot.id": _obs(w, ids)}})),
    WritePath("sta: PATCH Thing", lambda w, ids: (
        "PATCH", f"/sta/v1.1/Things({ids['thing']})", {"json": {"description": f"changed {w.fresh()}"}})),
    WritePath("sta: JSON-Patch Datastream", lambda w, ids: (
        "PATCH", f"/sta/v1.1/Datastreams({ids['stream']})",
        {"content": f'[{{"op": "replace", "path": "/description", "value": "p{w.fresh()}"}}]'.encode(),
         "headers": {"Content-Type": "application/json-patch+json"}})),
    WritePath("sta: PUT Observation", lambda w, ids: (
        "PUT", f"/sta/v1.1/Observations({_obs(w, ids)})", {"json": {"result": 9, "phenomenonTime": "2024-02-01T00:00:00Z"}})),
    WritePath("sta: DELETE Observation", lambda w, ids: ("DELETE", f"/sta/v1.1/Observations({_obs(w, ids)})", {})),
    WritePath("sta: DELETE Datastream", lambda w, ids: ("DELETE", "/sta/v1.1/Datastreams({})".format(w.sta("Datastreams", {
        "name": "doomed", "description": "d", "observationType": "OM_Measurement",
        "unitOfMeasurement": {"name": "n", "symbol": "n", "definition": "n"}, "Thing": {"@iot.id": ids["thing"]},
        "Sensor": {"name": "s", "description": "d", "encodingType": "text/plain", "metadata": "m"},
        "ObservedProperty": {"name": "p", "definition": "d", "description": "d"},
        "properties": {"urbanos:dataset": ids["ds"]}})), {})),
    WritePath("sta: CreateObservations", lambda w, ids: ("POST", "/sta/v1.1/CreateObservations", {"json": [{
        "Datastream": {"@iot.id": ids["stream"]}, "components": ["phenomenonTime", "result"],
        "dataArray": [["2024-03-01T00:00:00Z", 4]]}]})),
    WritePath("sta: $batch", lambda w, ids: ("POST", "/sta/v1.1/$batch", {"json": {"requests": [{
        "id": "1", "atomicityGroup": "g", "method": "post", "url": f"Datastreams({ids['stream']})/Observations",
        "body": {"result": 5}}]}}),
        status=lambda r: int(r.json()["responses"][0]["status"]) if r.status_code == 200 else int(r.status_code)),
    # CKAN Action API and DataStore
    WritePath("ckan: package_create in the organisation", _ckan("package_create", lambda w, ids: {
        "name": f"new-{w.fresh()}", "owner_org": "orga"}), target_public=True, anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: package_patch", _ckan("package_patch", lambda w, ids: {"id": ids["ds"], "notes": f"n{w.fresh()}"}), anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: package_delete", _ckan("package_delete", lambda w, ids: {"id": w.ok("package_create", {
        "name": f"gone-{w.fresh()}", "owner_org": "orga", "access_level": ids["ds"].split("-", 1)[1],
        "grounds": "security"})["name"]}), anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: dataset_purge", _ckan("dataset_purge", lambda w, ids: {"id": w.ok("package_create", {
        "name": f"purged-{w.fresh()}", "owner_org": "orga", "access_level": ids["ds"].split("-", 1)[1],
        "grounds": "security"})["name"]}), role="admin", global_only=True, anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: resource_create", _ckan("resource_create", lambda w, ids: {
        "package_id": ids["ds"], "name": "more", "url": "https://example.org/more.csv"}), anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: resource_patch", _ckan("resource_patch", lambda w, ids: {
        "id": ids["resource"], "description": f"d{w.fresh()}"}), anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: resource_delete", _ckan("resource_delete", lambda w, ids: {"id": w.ok("resource_create", {
        "package_id": ids["ds"], "name": "doomed", "url": "https://example.org/doomed.csv"})["id"]}), anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: datastore_upsert", _ckan("datastore_upsert", lambda w, ids: {
        "resource_id": ids["resource"], "method": "upsert", "records": [{"code": f"k{w.fresh()}", "n": 2}]}), anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: datastore_delete", _ckan("datastore_delete", lambda w, ids: {
        "resource_id": ids["resource"], "filters": {"code": "nothing-matches"}}), anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: datastore_create on a new resource", _ckan("datastore_create", lambda w, ids: {
        "resource_id": w.ok("resource_create", {"package_id": ids["ds"], "name": "t", "format": "CSV",
                                                  "url": "https://example.org/t.csv"})["id"],
        "fields": [{"id": "x", "type": "int"}], "records": [{"x": 1}]}), anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: datastore_create with a resource dict (resource and table in one call)", _ckan(
        "datastore_create", lambda w, ids: {"resource": {"package_id": ids["ds"], "name": f"t{w.fresh()}", "format": "CSV"},
                                            "fields": [{"id": "x", "type": "int"}], "records": [{"x": 1}]}),
        anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: member_create (the dataset into a group)", _ckan("member_create", lambda w, ids: {
        "id": "mobility", "object": ids["ds"], "object_type": "package", "capacity": "public"}), anonymous=CKAN_ANONYMOUS),
    WritePath("ckan: organization_member_create", _ckan("organization_member_create", lambda w, ids: {
        "id": "orga", "username": f"someone-{w.fresh()}", "role": "member"}), role="steward", target_public=True, anonymous=CKAN_ANONYMOUS),
    # OGC API Features Part 4
    WritePath("ogcapi: POST items", lambda w, ids: ("POST", f"/ogcapi/collections/{ids['collection']}/items", {"json": FEATURE})),
    WritePath("ogcapi: PUT item", lambda w, ids: (
        "PUT", f"/ogcapi/collections/{ids['collection']}/items/{_item(w, ids)}", {"json": FEATURE})),
    WritePath("ogcapi: PATCH item", lambda w, ids: (
        "PATCH", f"/ogcapi/collections/{ids['collection']}/items/{_item(w, ids)}",
        {"json": {"properties": {"pop": 7}}, "headers": {"Content-Type": "application/merge-patch+json"}})),
    WritePath("ogcapi: DELETE item", lambda w, ids: (
        "DELETE", f"/ogcapi/collections/{ids['collection']}/items/{_item(w, ids)}", {})),
    # later capabilities: connectors, alert rules, the algorithm register
    WritePath("connectors: POST /connectors into the dataset, mapped to its Datastream", lambda w, ids: (
        "POST", "/connectors", {"json": {"name": f"feed{w.fresh()}", "type": "csv", "url": "https://example.org/x.csv",
                                         "dataset": ids["ds"],
                                         "mapping": {"datastream": ids["stream"], "time": "t", "result": "v"}}})),
    WritePath("alerts: POST /alerts/rules on the Datastream", lambda w, ids: (
        "POST", "/alerts/rules", {"json": {"name": f"rule {w.fresh()}", "datastream": ids["stream"],
                                           "threshold": {"operator": ">", "fire": 100}}})),
    WritePath("algorithms: POST /algorithms using the dataset", lambda w, ids: (
        "POST", "/algorithms", {"json": {**ALGORITHM, "name": f"algorithm {w.fresh()}", "datasets": [ids["ds"]]}}),
        target_public=True),  # the entry's organisation, named in the body, is checked first: a refusal is 403
    # administration
    WritePath("admin: POST /admin/tokens for the organisation", lambda w, ids: (
        "POST", "/admin/tokens", {"json": {"role": "reader", "org": "orga", "name": f"t{w.fresh()}"}}),
        role="admin", target_public=True),
)


def _allowed(path: WritePath, role: str | None, scope: str | None) -> bool:
    if role is None or RANK[role] < RANK[path.role]:
        return False
    return scope is None or (scope == "orga" and not path.global_only)


def matrix_size() -> tuple[int, int, int, int]:
    return len(PATHS), len(CALLERS), len(LEVELS), len(PATHS) * len(CALLERS) * len(LEVELS)


@contextlib.contextmanager
def open_world(folder: Path, **settings: Any) -> Iterator[World]:
    """The organisations, callers and datasets on a fresh database of the back end under test (``settings``: more
    settings of the app); the sibling modules (test_write_matrix_*.py) build theirs with it."""
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    with fresh_db_url(folder) as url:
        app = create_app(settings_for(folder, url, **settings))
        try:
            with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
                yield _build(client, app.state.platform)
        finally:
            app.state.platform.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_world(tmp_path_factory.mktemp("matrix")) as w:
        yield w


def expected(path: WritePath, role: str | None, scope: str | None, level: str) -> tuple[int, ...] | None:
    """None when the caller may write through ``path`` to the dataset of ``level``, else the answers a refusal may
    have: 401 for the anonymous caller (or what ``path`` says), 403 when it may see the target or holds too low a
    role, and also 400/404 when it may not see the target (answered as for a target that does not exist)."""
    if _allowed(path, role, scope):
        return None
    visible = path.target_public or _sees(role, scope, level)
    if role is None:
        refused: tuple[int, ...] = path.anonymous
    elif RANK[role] < RANK[path.role] or (path.global_only and scope is not None) or visible:
        refused = (403,)  # no role: refused before the target is looked at; a visible target: forbidden
    else:
        refused = ()
    return refused if visible else (*refused, 400, 404)


PORTAL_COOKIE = "urbanos_portal_token"
CSRF_VALUE = "c" * 43


def attempt(world: World, who: str, request: Request, form_cookie: str | None = None) -> Any:
    """Send ``request`` as caller ``who``: its bearer token, or (``form_cookie``: the CSRF cookie of a portal form)
    its token in the portal's sign-in cookie with the form's CSRF token, as a browser sends the form."""
    method, url, kwargs = request
    kwargs = dict(kwargs)
    headers = dict(kwargs.pop("headers", {}))
    auth = world.headers[who]
    if form_cookie is None:
        headers.update(auth)
    else:
        jar = [f"{form_cookie}={CSRF_VALUE}"]
        if auth:
            jar.append(f"{PORTAL_COOKIE}={auth['Authorization'].split(' ', 1)[1]}")
        headers["Cookie"] = "; ".join(jar)
        kwargs["data"] = {**kwargs.get("data", {}), "csrf": CSRF_VALUE}
    try:
        return world.client.request(method, url, headers=headers, **kwargs)
    finally:
        world.client.cookies.clear()  # a page's new CSRF cookie must not reach the next caller


def changed_tables(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    return sorted(t for t in set(before or {}) | set(after) if (before or {}).get(t) != after.get(t))


def error_format(r: Any) -> bool:
    """Whether a refusal is in an API's error format: problem details naming its status, SensorThings' ``{code,
    type: "error", message}``, OGC API's exception ``{code, description}``, CKAN's ``{"success": false, "error":
    ...}``, Open311's list of ``{code, description}`` (JSON or XML), or a portal form shown again (HTML)."""
    ctype = r.headers.get("content-type", "").split(";")[0]
    if ctype == "text/html":
        return True
    if ctype == "text/xml":
        return "<errors>" in r.text
    try:
        body = r.json()
    except ValueError:
        return False
    if ctype == "application/problem+json":
        return isinstance(body, dict) and body.get("status") == r.status_code
    if isinstance(body, list):
        return bool(body) and all(isinstance(e, dict) and {"code", "description"} <= set(e) for e in body)
    if not isinstance(body, dict):
        return False
    if body.get("type") == "error":
        return body.get("code") == r.status_code and bool(body.get("message"))
    return (body.get("success") is False and "error" in body) or {"code", "description"} <= set(body)


def check_callers(world: World, build: Callable[[], Request],
                  expect: Callable[[str | None, str | None], tuple[int, ...] | None],
                  status: Callable[[Any], int] = lambda r: int(r.status_code),
                  form_cookie: str | None = None) -> list[str]:
    """Every caller tries the write ``build()`` makes (fresh for each); the problems found: an allowed caller not
    answered 2xx, a refused one answered other than ``expect`` says, or a refusal that changed a table."""
    problems = []
    for role, scope in CALLERS:
        who = _label(role, scope)
        request = build()
        refused = expect(role, scope)
        before = None if refused is None else world.snapshot()
        r = attempt(world, who, request, form_cookie)
        got = status(r)
        if refused is None:
            if not (200 <= got < 300 or got == 303):  # a form answers with a redirect to what it wrote
                problems.append(f"{who}: expected success, got {got} {r.text[:200]}")
            continue
        if got not in refused:
            problems.append(f"{who}: expected {refused}, got {got} {r.text[:200]}")
        elif r.status_code == got and not error_format(r):
            problems.append(f"{who}: refused with {got} in no error format: {r.headers.get('content-type')} {r.text[:200]}")
        changed = changed_tables(before, world.snapshot())
        if changed:
            problems.append(f"{who}: refused with {got} but changed {changed}")
    return problems


def check_path(world: World, path: WritePath, level: str) -> list[str]:
    ids = world.ids[level]
    return check_callers(world, lambda: path.build(world, ids), lambda role, scope: expected(path, role, scope, level),
                         path.status, path.form_cookie)


def check_owned(world: World, path: OwnedPath) -> list[str]:
    return check_callers(world, lambda: path.build(world), path.expect, path.status, path.form_cookie)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_write_matrix(world: World, path: WritePath, level: str) -> None:
    problems = check_path(world, path, level)
    assert not problems, "\n".join(problems)


def _own_dataset(world: World) -> str:
    """A dataset of ``orgb`` (the attacker's own organisation), made once."""
    if "orgb" not in world.ids:
        world.ok("package_create", {"name": "ds-orgb", "title": "B's data", "owner_org": "orgb"})
        world.ids["orgb"] = {"ds": "ds-orgb"}
    return "ds-orgb"


@pytest.mark.parametrize("level", LEVELS)
def test_own_object_linking_another_organisations_rows(world: World, level: str) -> None:
    """A publisher of ``orgb`` writes objects of its own organisation that link rows of ``orga``: an algorithm
    register entry may name a dataset it may read (open, registered) and nothing else; a connector may not feed
    another organisation's Datastream, whatever its level; a refusal changes nothing."""
    ids, mine = world.ids[level], _own_dataset(world)
    headers = world.headers["publisher:orgb"]
    readable = level in ("open", "registered")
    before = world.snapshot()
    r = world.client.post("/algorithms", headers=headers, json={
        **ALGORITHM, "owner_org": "orgb", "name": f"b uses {level}", "datasets": [ids["ds"]]})
    if readable:
        assert r.status_code == 201, r.text
        assert world.client.delete(f"/algorithms/{r.json()['id']}", headers=headers).status_code == 204
    else:
        assert r.status_code == 400 and "there is no dataset" in r.text, r.text
    r = world.client.post("/connectors", headers=headers, json={
        "name": f"bfeed{world.fresh()}", "type": "csv", "url": "https://example.org/x.csv", "dataset": mine,
        "mapping": {"datastream": ids["stream"], "time": "t", "result": "v"}})
    assert r.status_code == 400 and "not in dataset" in r.text, r.text  # the same answer whether it exists or not
    after = world.snapshot()
    changed = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t)
                     and not t.startswith(("privacy_algorithm", "catalog_", "datasets", "organizations")))
    assert not changed, changed
