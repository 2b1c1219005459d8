"""Harvest between two live ``urbanos serve`` instances, over the CKAN Action API and over DCAT."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.catalog_harvest.harvest_helpers import (
    Harvester,
    InProcess,
    action,
    counts,
    local_names,
    only_counts,
    seed_source,
)
from tests.conftest import free_port


@pytest.mark.parametrize("kind", ["ckan", "dcat"])
def test_harvest_between_two_instances(db_url: str, second_db: str, server_factory: Callable[..., Any],
                                       tmp_path: Path, kind: str, make_settings: Callable[..., Any]) -> None:
    source = server_factory(second_db)
    seed_source(source.url)
    url = source.url if kind == "ckan" else f"{source.url}/catalog.ttl?page_size=2"
    harvest = Harvester(db_url, tmp_path / "local")
    added = harvest("add", "city", "--type", kind, url)
    assert added.returncode == 0, added.stderr

    first = harvest("run", "city")
    assert first.returncode == 0, first.stdout + first.stderr
    assert counts(first.stdout) == {"created": 3, "updated": 0, "deleted": 0, "unchanged": 0, "failed": 0}
    local = server_factory(db_url)
    assert local_names(local.url) == {"trees-0", "trees-1", "trees-2"}  # only what anonymous callers see
    shown = action(local.url, "package_show?id=trees-1").json()["result"]
    assert shown["title"] == "Trees 1" and shown["resources"][0]["url"] == "http://example.org/trees-1.csv"

    inproc = InProcess(make_settings(harvest_timeout=10.0, harvest_retry_seconds=3600.0))
    [again] = inproc.run("city")
    assert only_counts(again) == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 3, "failed": 0}

    r = action(source.url, "package_patch", {"id": "trees-0", "title": "Trees zero"})
    assert r.status_code == 200, r.text
    assert action(source.url, "package_delete", {"id": "trees-2"}).status_code == 200
    [third] = inproc.run("city")
    assert only_counts(third) == {"created": 0, "updated": 1, "deleted": 1, "unchanged": 1, "failed": 0}
    assert local_names(local.url) == {"trees-0", "trees-1"}
    assert action(local.url, "package_show?id=trees-0").json()["result"]["title"] == "Trees zero"

    source.stop()  # the source goes down: logged, retried later, nothing withdrawn here
    [down] = inproc.run("city")
    assert down["status"] == "error" and down["deleted"] == 0
    assert local_names(local.url) == {"trees-0", "trees-1"}
    log = harvest("log", "city")
    lines = log.stdout.strip().splitlines()
    assert "\terror\t" in lines[0] and "\tok\t" in lines[1] and len(lines) == 4


def test_garbage_and_unreachable_sources_change_nothing(db_url: str, second_db: str,
                                                        server_factory: Callable[..., Any], tmp_path: Path,
                                                        make_settings: Callable[..., Any]) -> None:
    source = server_factory(second_db)
    inproc = InProcess(make_settings(harvest_timeout=10.0, harvest_retry_seconds=3600.0))
    bad = {"health-ckan": ("ckan", "/healthz"), "health-dcat": ("dcat", "/healthz"),
           "openapi-dcat": ("dcat", "/openapi.json"), "missing-ckan": ("ckan", "/nothing-here"),
           "html-dcat": ("dcat", "/docs")}
    for name, (kind, path) in bad.items():
        inproc.add(name, kind, source.url + path)
    inproc.add("gone", "ckan", f"http://127.0.0.1:{free_port()}")
    reports = {r["source"]: r for r in inproc.run()}
    assert set(reports) == {*bad, "gone"}
    for name, r in reports.items():
        assert r["status"] == "error" and r["message"], (name, r)
        assert only_counts(r) == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0, "failed": 0}
    harvest = Harvester(db_url, tmp_path / "local")
    listing = harvest("list")
    assert listing.stdout.count("status=error") == 6
    out = harvest("run", "gone")  # the CLI reports the failure with exit code 1
    assert out.returncode == 1 and "gone: error" in out.stdout


def test_bad_source_definitions(db_url: str, tmp_path: Path, make_settings: Callable[..., Any]) -> None:
    from urbanos.errors import Conflict, NotFound, ValidationFailed

    inproc = InProcess(make_settings())
    inproc.add("city", "ckan", "http://127.0.0.1:1")
    with pytest.raises(Conflict):
        inproc.add("city", "ckan", "http://127.0.0.1:2")
    with pytest.raises(ValidationFailed) as info:
        inproc.add("Bad Name", "csw", "ftp://x")
    assert set(info.value.detail) == {"name", "type", "url"}
    with pytest.raises(NotFound):
        inproc.run("nope")
    harvest = Harvester(db_url, tmp_path / "local")
    bad = harvest("add", "Bad Name", "--type", "ckan", "ftp://x")
    assert bad.returncode == 2 and "name" in bad.stderr and "url" in bad.stderr
    assert harvest("add", "x1", "--type", "csw", "http://127.0.0.1:1").returncode == 2


def test_scheduled_harvest(db_url: str, second_db: str, server_factory: Callable[..., Any], tmp_path: Path) -> None:
    source = server_factory(second_db)
    seed_source(source.url)
    harvest = Harvester(db_url, tmp_path / "sched")
    assert harvest("add", "city", "--type", "ckan", source.url).returncode == 0
    local = server_factory(db_url, env={"URBANOS_HARVEST_INTERVAL": "2", "URBANOS_OUTBOUND_ALLOW": "127.0.0.1"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and local_names(local.url) != {"trees-0", "trees-1", "trees-2"}:
        time.sleep(0.5)
    assert local_names(local.url) == {"trees-0", "trees-1", "trees-2"}
