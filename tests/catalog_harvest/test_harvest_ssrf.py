"""Harvest sources are fetched through the outbound-fetch policy: redirects and ``hydra:next`` links are checked
like the source URL, the source's token goes only to the source's own origin, JSON-LD contexts are never fetched
(from the network or the file system), and the size limit holds while the answer streams.

The sources are small servers on 127.0.0.1 (allowed with ``outbound_allow`` where the test is not about the
address filter); 127.0.0.2 plays an internal host that must never be reached."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.local_http import serve

TURTLE = {"Content-Type": "text/turtle"}
JSONLD = {"Content-Type": "application/ld+json"}
CONTEXT = {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/", "foaf": "http://xmlns.com/foaf/0.1/",
           "Dataset": "dcat:Dataset", "title": "dct:title", "publisher": "dct:publisher", "name": "foaf:name"}


def dcat_page(name: str, next_url: str | None = None) -> bytes:
    lines = ["@prefix dcat: <http://www.w3.org/ns/dcat#> .", "@prefix dct: <http://purl.org/dc/terms/> .",
             "@prefix hydra: <http://www.w3.org/ns/hydra/core#> .", "@prefix foaf: <http://xmlns.com/foaf/0.1/> .",
             f'<http://example.org/dataset/{name}> a dcat:Dataset ; dct:title "{name}" ;',
             '  dct:publisher <http://example.org/org/parks> .',
             '<http://example.org/org/parks> foaf:name "Parks" .']
    if next_url:
        lines.append(f"<http://example.org/catalog?page={name}> a hydra:PartialCollectionView ; hydra:next <{next_url}> .")
    return "\n".join(lines).encode()


def jsonld_doc(context: Any, name: str = "trees") -> bytes:
    return json.dumps({"@context": context, "@id": f"http://example.org/dataset/{name}", "@type": "Dataset",
                       "title": name, "publisher": {"@id": "http://example.org/org/parks", "name": "Parks"}}).encode()


def harvest(make_settings: Any, kind: str, url: str, *, token_env: str | None = None, name: str = "src",
            **settings: Any) -> dict[str, Any]:
    """Register the source and harvest it once in this process; the run's report."""
    from urbanos.catalog.harvest import runner, store
    from urbanos.platform import Platform
    from urbanos.plugins import load_components

    platform = Platform.build(make_settings(harvest_timeout=10.0, **settings), load_components())
    platform.open()
    try:
        async def main() -> dict[str, Any]:
            await store.add_source(platform.db, name, kind, url, token_env)
            [src] = await store.sources(platform.db, name)
            return await runner.run_source(platform, src)

        return asyncio.run(main())
    finally:
        platform.close()


def test_hydra_next_on_another_origin_never_gets_the_token(make_settings: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("SRC_TOKEN", "uos_1_partner-secret")
    with serve({"/page2": (200, TURTLE, dcat_page("second"))}) as other:
        with serve({"/catalog.ttl": (200, TURTLE, dcat_page("first", f"{other.url}/page2"))}) as source:
            report = harvest(make_settings, "dcat", f"{source.url}/catalog.ttl", token_env="SRC_TOKEN",
                             outbound_allow="127.0.0.1")
    assert report["status"] == "ok" and report["created"] == 2, report
    assert source.header_values("authorization") == ["Bearer uos_1_partner-secret"]
    assert other.header_values("authorization") == [None]


def test_a_redirect_to_an_internal_address_is_refused(make_settings: Any) -> None:
    envelope = json.dumps({"success": True, "result": {"count": 1, "results": [{"name": "secret-ds"}]}}).encode()
    with serve({"/api/3/action/package_search": (200, {"Content-Type": "application/json"}, envelope)},
               host="127.0.0.2") as internal:
        target = f"{internal.url}/api/3/action/package_search"
        with serve({"/api/3/action/package_search": (302, {"Location": target}, b"")}) as source:
            report = harvest(make_settings, "ckan", source.url, outbound_allow="127.0.0.1")
    assert report["status"] == "error" and report["created"] == 0
    assert "127.0.0.2" in report["message"] and "not a public address" in report["message"]
    assert internal.hits == []


@pytest.mark.parametrize("next_url", ["file:///etc/passwd", "http://127.0.0.2:{port}/page2"])
def test_hydra_next_is_checked_like_the_source(make_settings: Any, next_url: str) -> None:
    with serve({"/page2": (200, TURTLE, dcat_page("inside"))}, host="127.0.0.2") as internal:
        nxt = next_url.format(port=internal.port)
        with serve({"/catalog.ttl": (200, TURTLE, dcat_page("first", nxt))}) as source:
            report = harvest(make_settings, "dcat", f"{source.url}/catalog.ttl", outbound_allow="127.0.0.1")
    assert report["status"] == "error" and report["created"] == 0, report
    assert internal.hits == []


def test_a_source_on_a_private_address_needs_the_allow_list(make_settings: Any) -> None:
    with serve({"/catalog.ttl": (200, TURTLE, dcat_page("first"))}) as source:
        refused = harvest(make_settings, "dcat", f"{source.url}/catalog.ttl")
        assert refused["status"] == "error" and "not a public address" in refused["message"]
        assert "outbound_allow" in refused["message"] and source.hits == []


@pytest.mark.parametrize("where", ["http", "file", "passwd", "import"])
def test_json_ld_contexts_are_never_fetched(make_settings: Any, tmp_path: Path, where: str) -> None:
    ctx_file = tmp_path / "ctx.jsonld"
    ctx_file.write_text(json.dumps({"@context": CONTEXT}))
    with serve({"/ctx": (200, JSONLD, json.dumps({"@context": CONTEXT}).encode())}) as ctx_server:
        context: Any = {"http": f"{ctx_server.url}/ctx", "file": ctx_file.as_uri(), "passwd": "file:///etc/passwd",
                        "import": {"@import": f"{ctx_server.url}/ctx"}}[where]
        with serve({"/catalog.jsonld": (200, JSONLD, jsonld_doc(context))}) as source:
            report = harvest(make_settings, "dcat", f"{source.url}/catalog.jsonld", outbound_allow="127.0.0.1")
    assert report["status"] == "error" and report["created"] == 0, report
    assert "remote context" in report["message"]
    assert ctx_server.hits == []


def test_json_ld_with_inline_contexts_is_harvested(make_settings: Any) -> None:
    scoped = {**CONTEXT, "title": {"@id": "dct:title", "@context": {"@language": "en"}}}
    with serve({"/a.jsonld": (200, JSONLD, jsonld_doc(CONTEXT, "trees")),
                "/b.jsonld": (200, JSONLD, jsonld_doc([CONTEXT, scoped], "parks"))}) as source:
        for path in ("/a.jsonld", "/b.jsonld"):
            report = harvest(make_settings, "dcat", source.url + path, name=f"src-{path[1]}", outbound_allow="127.0.0.1")
            assert report["status"] == "ok" and report["created"] == 1, report


def test_the_size_limit_holds_while_streaming_and_names_the_setting(make_settings: Any) -> None:
    body = dcat_page("first") + b"\n# " + b"x" * 5000
    with serve({"/catalog.ttl": (200, {**TURTLE, "Transfer-Encoding": "chunked"},
                                 b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))}) as source:
        report = harvest(make_settings, "dcat", f"{source.url}/catalog.ttl", outbound_allow="127.0.0.1",
                         harvest_max_bytes=2048)
    assert report["status"] == "error" and "harvest_max_bytes" in report["message"], report
