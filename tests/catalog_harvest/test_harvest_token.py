"""Harvesting non-open data between live instances: a source that names an environment variable with its API
token brings the registered datasets that token may read, with their access level and grounds; without a
token they stay at the source. The token never reaches the harvesting database.

The source is a live instance (the harvester reads it over HTTP); the harvest commands run in the test process
(``Harvester(in_process=True)``: the same command line, environment and output; tests/catalog_harvest/test_harvest_live.py
runs them as processes of their own) and the harvesting instances are read through their apps in process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.catalog_harvest.harvest_helpers import (
    ADMIN,
    Harvester,
    action,
    counts,
    local_names,
    seed_source,
    served_in_process,
)

TREES = {"trees-0", "trees-1", "trees-2"}


def _source_token(url: str, role: str, org: str | None = None) -> str:
    r = httpx.post(f"{url}/admin/tokens", json={"role": role, "org": org, "name": "harvester"}, headers=ADMIN, timeout=30)
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


@pytest.mark.parametrize("kind", ["ckan", "dcat"])
def test_harvest_with_token(db_url: str, second_db: str, third_db: str, server_factory: Callable[..., Any],
                            tmp_path: Path, kind: str) -> None:
    source = server_factory(second_db)
    seed_source(source.url)  # three open datasets and an internal one
    r = action(source.url, "package_create", {"name": "permits", "title": "Building permits", "owner_org": "parks",
                                              "access_level": "registered", "grounds": ["third-party-rights"],
                                              "legal_basis": "Contract 12/2024"})
    assert r.status_code == 200, r.text
    token = _source_token(source.url, "reader")
    url = source.url if kind == "ckan" else f"{source.url}/catalog.ttl?page_size=2"

    # without a token: open datasets only
    plain = Harvester(db_url, tmp_path / "plain", in_process=True)
    assert plain("add", "city", "--type", kind, url).returncode == 0
    out = plain("run", "city")
    assert out.returncode == 0, out.stdout + out.stderr
    assert counts(out.stdout)["created"] == 3
    with served_in_process(db_url, tmp_path / "plain-app") as plain_app:
        assert local_names(plain_app) == TREES

    # with a token named by an environment variable
    partner = Harvester(third_db, tmp_path / "partner", in_process=True)
    added = partner("add", "partner", "--type", kind, url, "--token-env", "PARTNER_TOKEN")
    assert added.returncode == 0, added.stderr
    assert "PARTNER_TOKEN" in added.stdout and token not in added.stdout
    unset = partner("run", "partner")  # the variable is not set: the run fails, nothing changes
    assert unset.returncode == 1 and "PARTNER_TOKEN" in unset.stdout + unset.stderr
    assert counts(unset.stdout)["created"] == 0
    wrong = partner.with_env(PARTNER_TOKEN="uos_1_not-the-secret")("run", "partner")
    assert wrong.returncode == 1 and ("HTTP 401" in wrong.stderr or "HTTP 403" in wrong.stderr)  # 403: CKAN's envelope
    ran = partner.with_env(PARTNER_TOKEN=token)("run", "partner")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert counts(ran.stdout)["created"] == 4  # the internal dataset stays: the token has no role in parks

    with served_in_process(third_db, tmp_path / "partner-app") as local:
        assert local_names(local) == {*TREES, "permits"}
        permits = action(local, "package_show?id=permits", headers=ADMIN).json()["result"]
        assert permits["access_level"] == "registered" and permits["grounds"] == ["third-party-rights"]
        assert permits["legal_basis"] == "Contract 12/2024"
        anonymous = action(local, "package_show?id=permits")
        assert anonymous.status_code == 403  # the local copy keeps its access level
        assert "permits" not in {p["name"] for p in action(local, "package_search").json()["result"]["results"]}

    again = partner.with_env(PARTNER_TOKEN=token)("run", "partner")
    assert counts(again.stdout) == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 4, "failed": 0}
    listing = partner("list")
    assert "token=$PARTNER_TOKEN" in listing.stdout and token not in listing.stdout
    dump = partner.dump("harvest_sources", "harvest_log", "harvest_objects")
    assert "PARTNER_TOKEN" in dump and token not in dump and token.split("_", 2)[2] not in dump


def test_token_env_must_be_a_variable_name(db_url: str, tmp_path: Path) -> None:
    harvest = Harvester(db_url, tmp_path / "local")
    bad = harvest("add", "partner", "--type", "ckan", "http://127.0.0.1:1", "--token-env", "not a name; rm -rf")
    assert bad.returncode == 2 and "token_env" in bad.stderr
