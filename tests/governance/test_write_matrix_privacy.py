"""The write matrix (see test_write_matrix.py) for privacy: the privacy rules, retention periods, consent-based marks,
person-related marks and impact assessments of each dataset (and of its Datastream's ObservedProperty), the consent
register's writes by stewards, and the contacts for objections.

A dataset's privacy settings are written by a steward of its organisation (or of the whole platform); a caller that
may not read the dataset (or the ObservedProperty) is answered as for one that does not exist. An assessment is
decided by a steward of the data-protection organisation (here ``orga``, setting ``privacy_dpo_org``); one that is
not approved is hidden (404) from whoever is neither a publisher of its organisation nor such a steward."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.governance.test_write_matrix import (
    ADMIN,
    ALGORITHM,
    CALLERS,
    LEVELS,
    RANK,
    OwnedPath,
    World,
    WritePath,
    check_owned,
    check_path,
    open_world,
    owner_rule,
)
from urbanos.privacy.dpia.model import REQUIRED

SECTIONS = {k: "written" for k in REQUIRED}


def _admin(w: World, method: str, url: str, status: int = 200, **kwargs: Any) -> Any:
    r = w.client.request(method, url, headers=ADMIN, **kwargs)
    assert r.status_code == status, r.text
    return r.json()


def _dpia(w: World, ids: dict[str, Any], state: str = "draft") -> int:
    made = _admin(w, "POST", "/privacy/dpias", 201, json={"kind": "dataset", "target": ids["ds"], "sections": SECTIONS})
    if state == "submitted":
        _admin(w, "POST", f"/privacy/dpias/{made['id']}/submit")
    return int(made["id"])


def _algorithm(w: World, ids: dict[str, Any]) -> int:
    return int(_admin(w, "POST", "/algorithms", 201, json={**ALGORITHM, "name": f"algorithm {w.fresh()}",
                                                           "datasets": [ids["ds"]]})["id"])


def _receipt(w: World) -> str:
    r = _admin(w, "POST", "/privacy/consent", 201, json={"purpose": "research", "recipient": "orga",
                                                         "principal": f"citizen-{w.fresh()}"})
    return str(r["receipt"]["consentReceiptID"])


def _flip(w: World) -> bool:
    return bool(w.fresh() % 2)


def _assessment(decide: bool) -> Callable[[str | None, str | None], tuple[int, ...] | None]:
    """Who changes (``decide``: approves or rejects) an assessment of ``orga``: a steward of ``orga`` (its
    organisation, and the data-protection organisation) or of the whole platform. A caller that may not read the
    assessment (neither a publisher of ``orga`` nor a steward of it) gets 404, the anonymous caller 401 where the
    role is asked first (a decision) and 404 otherwise; a publisher of ``orga`` may read it: 403."""
    def rule(r: str | None, s: str | None) -> tuple[int, ...] | None:
        if r is None:
            return (401,) if decide else (404,)
        if RANK[r] >= RANK["steward"] and s in ("orga", None):
            return None
        return (403,) if RANK[r] >= RANK["publisher"] and s in ("orga", None) else (404,)
    return rule


STEWARD = "steward"
DATASET_PATHS: tuple[WritePath, ...] = (
    WritePath("privacy: PUT /privacy/rules/{dataset} narrowed to its Datastream", lambda w, ids: (
        "PUT", f"/privacy/rules/{ids['ds']}", {"json": {"rules": [
            {"kind": "redact", "fields": [f"f{w.fresh()}"], "datastreams": [ids["stream"]]}]}}), role=STEWARD),
    WritePath("privacy: PUT /privacy/rules/{dataset} narrowed to its collection", lambda w, ids: (
        "PUT", f"/privacy/rules/{ids['ds']}", {"json": {"rules": [
            {"kind": "redact", "fields": ["pop"], "collections": [ids["collection"]]}]}}), role=STEWARD),
    WritePath("privacy: PUT /privacy/retention/{dataset} with its Datastream and collection", lambda w, ids: (
        "PUT", f"/privacy/retention/{ids['ds']}", {"json": {
            "days": 3650, "datastreams": [{"id": ids["stream"], "days": 100 + w.fresh() % 100}],
            "collections": [{"name": ids["collection"], "days": 365}]}}), role=STEWARD),
    WritePath("privacy: DELETE /privacy/retention/{dataset}", lambda w, ids: (
        "DELETE", f"/privacy/retention/{ids['ds']}", {}), role=STEWARD),
    WritePath("privacy: PUT /privacy/consent/datasets/{dataset}", lambda w, ids: (
        "PUT", f"/privacy/consent/datasets/{ids['ds']}", {"json": {"subject_field": f"person{w.fresh()}",
                                                                   "purpose": "research"}}), role=STEWARD),
    WritePath("privacy: DELETE /privacy/consent/datasets/{dataset}", lambda w, ids: (
        "DELETE", f"/privacy/consent/datasets/{ids['ds']}", {}), role=STEWARD),
    WritePath("privacy: PUT /privacy/person-related (the dataset)", lambda w, ids: (
        "PUT", "/privacy/person-related", {"json": {"kind": "dataset", "target": ids["ds"], "person_related": _flip(w)}}),
        role=STEWARD),
    WritePath("privacy: PUT /privacy/person-related (its Datastream's ObservedProperty)", lambda w, ids: (
        "PUT", "/privacy/person-related", {"json": {"kind": "observed_property", "target": ids["property"],
                                                     "person_related": False}}), role=STEWARD),
    WritePath("privacy: POST /privacy/dpias (the dataset)", lambda w, ids: (
        "POST", "/privacy/dpias", {"json": {"kind": "dataset", "target": ids["ds"]}}), role=STEWARD),
    WritePath("privacy: POST /privacy/dpias (its Datastream's ObservedProperty)", lambda w, ids: (
        "POST", "/privacy/dpias", {"json": {"kind": "observed_property", "target": ids["property"]}}), role=STEWARD),
    # the algorithm register: an entry of orga using the dataset (entries are public: a refusal is 403)
    WritePath("algorithms: PATCH /algorithms/{id}", lambda w, ids: (
        "PATCH", f"/algorithms/{ids['algorithm']}", {"json": {"goal": f"Less waiting {w.fresh()}"}}), target_public=True),
    WritePath("algorithms: PUT /algorithms/{id}", lambda w, ids: (
        "PUT", f"/algorithms/{ids['algorithm']}", {"json": {**ALGORITHM, "name": f"replaced {w.fresh()}",
                                                           "datasets": [ids["ds"]]}}), target_public=True),
    WritePath("algorithms: DELETE /algorithms/{id}", lambda w, ids: (
        "DELETE", f"/algorithms/{_algorithm(w, ids)}", {}), target_public=True),
)

OWNED: tuple[OwnedPath, ...] = (
    OwnedPath("dpia: PATCH a draft", lambda w: (
        "PATCH", f"/privacy/dpias/{_dpia(w, w.ids['confidential'])}", {"json": {"sections": {"risks": "few"}}}),
        _assessment(decide=False)),
    OwnedPath("dpia: submit", lambda w: ("POST", f"/privacy/dpias/{_dpia(w, w.ids['internal'])}/submit", {}),
              _assessment(decide=False)),
    OwnedPath("dpia: approve", lambda w: (
        "POST", f"/privacy/dpias/{_dpia(w, w.ids['open'], 'submitted')}/approve", {"json": {"note": "fine"}}),
        _assessment(decide=True)),
    OwnedPath("dpia: reject", lambda w: (
        "POST", f"/privacy/dpias/{_dpia(w, w.ids['registered'], 'submitted')}/reject", {}), _assessment(decide=True)),
    OwnedPath("consent: a steward of the recipient grants for a citizen", lambda w: (
        "POST", "/privacy/consent", {"json": {"purpose": "research", "recipient": "orga",
                                              "principal": f"citizen-{w.fresh()}"}})),
    OwnedPath("consent: a steward of the recipient revokes a citizen's consent", lambda w: (
        "POST", f"/privacy/consent/receipts/{_receipt(w)}/revoke", {}),
        owner_rule(others=(404,))),  # a receipt of another principal is answered as one that does not exist
    OwnedPath("consent: a citizen (any signed-in caller) grants its own", lambda w: (
        "POST", "/privacy/consent", {"json": {"purpose": "research", "recipient": "orga"}}),
        lambda r, s: (401,) if r is None else None),
    OwnedPath("transparency: PUT /privacy/contacts/{org}", lambda w: (
        "PUT", "/privacy/contacts/orga", {"json": {"contact": f"privacy{w.fresh()}@example.org"}})),
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_world(tmp_path_factory.mktemp("privacy"), privacy_dpo_org="orga") as w:
        for level in LEVELS:
            ids = w.ids[level]
            ids["property"] = _admin(w, "GET", f"/sta/v1.1/Datastreams({ids['stream']})/ObservedProperty")["@iot.id"]
            ids["algorithm"] = _algorithm(w, ids)
        w.ok("package_create", {"name": "ds-orgb", "title": "B's data", "owner_org": "orgb"})
        yield w


def matrix_size() -> tuple[int, int, int, int]:
    paths = len(DATASET_PATHS) + len(OWNED)
    return paths, len(CALLERS), len(LEVELS), (len(DATASET_PATHS) * len(LEVELS) + len(OWNED)) * len(CALLERS)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("path", DATASET_PATHS, ids=[p.name for p in DATASET_PATHS])
def test_write_matrix_privacy(world: World, path: WritePath, level: str) -> None:
    problems = check_path(world, path, level)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", OWNED, ids=[p.name for p in OWNED])
def test_write_matrix_privacy_owned(world: World, path: OwnedPath) -> None:
    problems = check_owned(world, path)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("level", LEVELS)
def test_settings_of_orgb_name_only_what_it_may_read(world: World, level: str) -> None:
    """A steward of ``orgb`` declares privacy rules and retention for its own dataset: naming ``orga``'s
    Datastream or collection is refused as a name that does not exist (whatever its level); a boundary collection
    (whose area names the aggregates publish) must be one it may read, else it too is unknown, and for its open
    dataset one of open data."""
    ids, headers = world.ids[level], world.headers["steward:orgb"]
    readable = level in ("open", "registered")
    before = world.snapshot()

    def put(url: str, body: dict[str, Any]) -> Any:
        return world.client.put(url, headers=headers, json=body)

    for rule in ({"kind": "redact", "fields": ["x"], "datastreams": [ids["stream"]]},
                 {"kind": "redact", "fields": ["x"], "collections": [ids["collection"]]}):
        r = put("/privacy/rules/ds-orgb", {"rules": [rule]})
        assert r.status_code == 422 and "dataset 'ds-orgb' has no" in r.text, r.text
    for body in ({"datastreams": [{"id": ids["stream"], "days": 1}]}, {"collections": [{"name": ids["collection"], "days": 1}]}):
        r = put("/privacy/retention/ds-orgb", body)
        assert r.status_code == 400 and "of this dataset" in r.text, r.text
    assert world.snapshot() == before
    bounded = {"rules": [{"kind": "aggregate", "bucket_minutes": 60, "boundaries": ids["collection"]}]}
    missing = put("/privacy/rules/ds-orgb", {"rules": [{**bounded["rules"][0], "boundaries": "no-such-collection"}]})
    assert missing.status_code == 422, missing.text
    r = put("/privacy/rules/ds-orgb", bounded)
    if level == "open":
        assert r.status_code == 200, r.text
        assert put("/privacy/rules/ds-orgb", {"rules": []}).status_code == 200
    elif readable:  # readable by the steward, not by everyone who reads the open dataset's aggregates
        assert r.status_code == 422 and "open data" in r.text, r.text
        assert world.snapshot() == before
    else:
        assert r.status_code == 422, r.text
        assert r.json()["detail"] == missing.json()["detail"].replace("no-such-collection", ids["collection"])
        changed = [t for t, rows in world.snapshot().items() if before.get(t) != rows]
        assert not changed, changed


def test_a_dataset_with_privacy_settings_keeps_its_name(world: World) -> None:
    """Retention, consent-based and person-related marks and assessments are kept under a dataset's name: renaming
    the dataset is refused (409, CKAN's format) and changes nothing, so the renamed dataset cannot shed its consent
    filter or retention, and another organisation's new dataset under the old name cannot take them over."""
    world.ok("package_create", {"name": "kept", "owner_org": "orga"})
    headers = world.headers["steward:orga"]
    settings = (("PUT", "/privacy/retention/kept", {"days": 30}),
                ("PUT", "/privacy/consent/datasets/kept", {"subject_field": "person", "purpose": "research"}),
                ("PUT", "/privacy/person-related", {"kind": "dataset", "target": "kept", "person_related": True}),
                ("POST", "/privacy/dpias", {"kind": "dataset", "target": "kept"}))
    for method, url, body in settings:
        assert world.client.request(method, url, headers=headers, json=body).status_code in (200, 201)
        before = world.snapshot()
        r = world.ckan("package_patch", {"id": "kept", "name": "renamed"}, headers)
        assert r.status_code == 409 and r.json()["success"] is False, r.text
        assert "keeps its name" in str(r.json()["error"]), r.text
        assert world.snapshot() == before
    assert world.ckan("package_patch", {"id": "kept", "title": "Still kept"}, headers).status_code == 200
    world.ok("package_create", {"name": "free", "owner_org": "orga"})
    assert world.ckan("package_patch", {"id": "free", "name": "freed"}, headers).status_code == 200


def test_a_new_dataset_does_not_take_over_a_purged_ones_settings(world: World) -> None:
    """An admin purges a dataset of ``orga`` that had retention and a consent-based mark; a steward of ``orgb``
    creates a dataset of the same name: it starts without them (a day's retention set by ``orga`` would purge
    ``orgb``'s data)."""
    world.ok("package_create", {"name": "reused", "owner_org": "orga"})
    for url, body in (("/privacy/retention/reused", {"days": 1}),
                      ("/privacy/consent/datasets/reused", {"subject_field": "person", "purpose": "research"})):
        assert world.client.put(url, headers=ADMIN, json=body).status_code == 200
    world.ok("dataset_purge", {"id": "reused"})
    headers = world.headers["steward:orgb"]
    assert world.ckan("package_create", {"name": "reused", "owner_org": "orgb"}, headers).status_code == 200
    r = world.client.get("/privacy/retention/reused", headers=headers)
    assert r.status_code == 200 and r.json()["days"] is None, r.text
    assert "reused" not in world.client.get("/privacy/consent/datasets", headers=ADMIN).text
