"""A harvest source may name the local organisation that owns what it brings (``urbanos harvest add --org ORG``):
every harvested dataset then belongs to ORG, whatever organisation the remote record names, and keeps the remote
publisher's name as its publisher. Without ``--org`` the remote record decides, as before."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.local_http import serve
from urbanos.catalog.harvest import runner, store
from urbanos.errors import ValidationFailed
from urbanos.governance import ADMIN
from urbanos.platform import Platform
from urbanos.plugins import load_components

CKAN = {"Content-Type": "application/json"}
TURTLE = {"Content-Type": "text/turtle"}


def ckan_envelope(*names: str) -> bytes:
    """A CKAN package_search answer whose packages name the organisation ``orga``."""
    results = [{"id": f"remote-{n}", "name": n, "title": n.title(), "notes": "Trees of the partner city.",
                "organization": {"name": "orga", "title": "Organisation A"}, "owner_org": "orga",
                "resources": [{"name": "CSV", "url": f"https://example.org/{n}.csv", "format": "CSV"}]} for n in names]
    return json.dumps({"success": True, "result": {"count": len(results), "results": results}}).encode()


def dcat_document(name: str) -> bytes:
    return "\n".join([
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .", "@prefix dct: <http://purl.org/dc/terms/> .",
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .",
        f'<http://example.org/dataset/{name}> a dcat:Dataset ; dct:title "{name}" ;',
        "  dct:publisher <http://example.org/org/orga> .",
        '<http://example.org/org/orga> foaf:name "Organisation A" .']).encode()


class Local:
    """The harvesting platform, with the local organisations ``orga`` and ``city``."""

    def __init__(self, settings: Any) -> None:
        self.platform = Platform.build(settings, load_components())
        self.platform.open()
        self.svc = self.platform.services["catalog"]
        for name, title in (("orga", "Local organisation A"), ("city", "City data office")):
            self.run(self.svc.organization_create(ADMIN, {"name": name, "title": title}))

    def run(self, coro: Any) -> Any:
        return asyncio.run(coro)

    def harvest(self, name: str, kind: str, url: str, org: str | None = None) -> dict[str, Any]:
        """Register the source and harvest it once."""
        self.run(store.add_source(self.platform.db, name, kind, url, None, org))
        return self.again(name)

    def again(self, name: str) -> dict[str, Any]:
        async def main() -> dict[str, Any]:
            [src] = await store.sources(self.platform.db, name)
            return await runner.run_source(self.platform, src)

        return self.run(main())  # type: ignore[no-any-return]

    def show(self, name: str) -> dict[str, Any]:
        return self.run(self.svc.package_show(ADMIN, name))  # type: ignore[no-any-return]


@pytest.fixture
def local(make_settings: Any) -> Any:
    here = Local(make_settings(harvest_timeout=10.0, outbound_allow="127.0.0.1"))
    try:
        yield here
    finally:
        here.platform.close()


def test_a_source_with_org_puts_every_dataset_in_it(local: Local) -> None:
    with serve({"/api/3/action/package_search": (200, CKAN, ckan_envelope("oaks", "limes"))}) as source:
        report = local.harvest("partner", "ckan", source.url, org="city")
        again = local.again("partner")  # a second run changes nothing
    assert report["status"] == "ok" and report["created"] == 2, report
    for name in ("oaks", "limes"):
        pkg = local.show(name)
        assert pkg["owner_org"] == pkg["organization"]["id"] and pkg["organization"]["name"] == "city"
        assert pkg["publisher"] == "Organisation A"  # the remote publisher, kept as metadata
    assert again["unchanged"] == 2 and again["created"] == again["updated"] == 0, again


def test_without_org_the_remote_record_decides(local: Local) -> None:
    with serve({"/api/3/action/package_search": (200, CKAN, ckan_envelope("birches"))}) as source:
        report = local.harvest("neighbour", "ckan", source.url)
    assert report["status"] == "ok" and report["created"] == 1, report
    pkg = local.show("birches")
    assert pkg["organization"]["name"] == "orga" and pkg["publisher"] == "Local organisation A"


def test_a_dcat_source_with_org(local: Local) -> None:
    with serve({"/catalog.ttl": (200, TURTLE, dcat_document("elms"))}) as source:
        report = local.harvest("rdf", "dcat", f"{source.url}/catalog.ttl", org="city")
    assert report["status"] == "ok" and report["created"] == 1, report
    pkg = local.show("elms")
    assert pkg["organization"]["name"] == "city" and pkg["publisher"] == "Organisation A"
    orgs = local.run(local.svc.organization_list(ADMIN))
    assert orgs == ["city", "orga"]  # the remote organisation was not created


def test_the_org_must_exist(local: Local) -> None:
    with pytest.raises(ValidationFailed) as err:
        local.run(store.add_source(local.platform.db, "partner", "ckan", "https://partner.example.org", None, "nowhere"))
    assert "org" in err.value.detail
    assert local.run(store.sources(local.platform.db)) == []


def test_harvest_add_org_on_the_command_line(local: Local) -> None:
    settings = local.platform.settings
    args = ["--db", settings.db, "--data-dir", str(settings.data_dir)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}

    def cli(*words: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "urbanos.cli.main", "harvest", *words, *args],
                              capture_output=True, text=True, timeout=120, env=env)

    refused = cli("add", "partner", "https://partner.example.org", "--type", "ckan", "--org", "nowhere")
    assert refused.returncode == 2 and "nowhere" in refused.stderr, refused
    added = cli("add", "partner", "https://partner.example.org", "--type", "ckan", "--org", "city")
    assert added.returncode == 0, added.stderr
    assert "datasets owned by city" in added.stdout
    listed = cli("list")
    assert listed.returncode == 0 and "org=city" in listed.stdout, listed
