"""Harvest runs: fetch every dataset of a CKAN or DCAT source, then create, update or withdraw local copies.

A run first fetches the whole source. A source that is down, slow or answers garbage ends the run as
``error`` before anything local changes: no local dataset is ever withdrawn because a source failed.
The run is logged and the source is retried after ``harvest_retry_seconds``. Unchanged datasets (same
content hash as last time) are not written, so a second run changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from typing import Any

import orjson

from urbanos.catalog.dcat import source as catalog
from urbanos.catalog.dcat.parse import RemoteContext, next_page, packages_from, parse_rdf
from urbanos.catalog.harvest import store
from urbanos.catalog.validation import TRANSLATED, clean_translated
from urbanos.core.numbers import parse_int
from urbanos.core.time import now_stored
from urbanos.errors import NotFound, UrbanosError
from urbanos.governance import ADMIN
from urbanos.governance.outbound import Credentials, Fetched, OutboundClient
from urbanos.platform import Platform

log = logging.getLogger("urbanos.harvest")
MAX_PAGES = 10000
RDF_TYPES = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml",
             "application/n-triples": "nt", "application/xml": "xml", "text/xml": "xml"}
SYNC_KEYS = ("name", "title", "notes", "tags", "license_id", "version", "maintainer", "maintainer_email",
             "frequency", "theme", "access_level", "grounds", "legal_basis", "review_date", "steward", "spatial",
             "spatial_text", "temporal_start", "temporal_end", "url", "title_translated", "notes_translated")


class SourceError(Exception):
    """The source could not be read completely (down, bad status, or not a catalogue)."""


async def _get(client: OutboundClient, url: str, **params: Any) -> Fetched:
    """One answer of the source, through the outbound policy: public addresses only (or ``outbound_allow``),
    redirects checked hop by hop, the source's credentials only to its own origin, at most
    ``harvest_max_bytes``."""
    try:
        resp = await client.get(url, params=params or None)
    except UrbanosError as exc:
        raise SourceError(exc.message) from None
    if resp.status != 200:
        raise SourceError(f"{url}: HTTP {resp.status}")
    return resp


async def fetch_ckan(client: OutboundClient, url: str) -> list[dict[str, Any]]:
    base = url.rstrip("/")
    for suffix in ("/api/3/action", "/api/action", "/api/3", "/api"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    out: list[dict[str, Any]] = []
    start, rows = 0, 100
    for _ in range(MAX_PAGES):
        resp = await _get(client, f"{base}/api/3/action/package_search", rows=rows, start=start, sort="name asc")
        try:
            body = orjson.loads(resp.content)
            result = body["result"]
            count = parse_int(result["count"], lo=0)
            if count is None:
                raise ValueError("count is not a whole number")
            batch = result["results"]
            ok = body.get("success") is True and isinstance(batch, list)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise SourceError(f"{base}: package_search did not answer with a CKAN envelope") from None
        if not ok or not all(isinstance(p, dict) and p.get("name") for p in batch):
            raise SourceError(f"{base}: package_search answered an unexpected result")
        for p in batch:
            p["remote_id"] = str(p.get("id") or p["name"])
        out.extend(batch)
        start += len(batch)
        if not batch or start >= count:
            return out
    raise SourceError(f"{base}: more than {MAX_PAGES} pages")


async def fetch_dcat(client: OutboundClient, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    page: str | None = url
    while page and page not in seen and len(seen) < MAX_PAGES:
        seen.add(page)
        resp = await _get(client, page)
        media = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        fmt = RDF_TYPES.get(media) or ("json-ld" if page.split("?")[0].endswith(".jsonld") else
                                       "xml" if page.split("?")[0].endswith(".rdf") else "turtle")
        try:
            g = parse_rdf(resp.content, fmt)
        except RemoteContext as exc:
            raise SourceError(f"{page}: JSON-LD that names a remote context is not read ({exc}); the source should "
                              "write its contexts inline") from None
        except Exception as exc:  # noqa: BLE001 - any parser error means the source answered garbage
            raise SourceError(f"{page}: not a readable RDF document ({type(exc).__name__})") from None
        batch = packages_from(g)
        if not batch and not out and (None, None, None) not in g:
            raise SourceError(f"{page}: the document holds no triples")
        out.extend(batch)
        page = next_page(g)
    return out


def source_auth(src: dict[str, Any]) -> dict[str, str]:
    """The Authorization header for a source that carries credentials: the token is read from the environment
    variable the source names, at run time; it is never stored. CKAN sources get the bare token as CKAN
    clients send it, DCAT sources a bearer token. The outbound client sends it only to the origin (scheme, host,
    port) of the source's URL: never to another host a redirect or a ``hydra:next`` link names."""
    var = src.get("token_env")
    if not var:
        return {}
    token = os.environ.get(str(var), "").strip()
    if not token:
        raise SourceError(f"the environment variable {var} that holds the token of source {src['name']} is not set")
    return {"Authorization": token if src["type"] == "ckan" else f"Bearer {token}"}


def _local_doc(pkg: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """The local package of a remote one. A source with an ``org`` puts it in that local organisation and keeps the
    remote publisher's name as the dataset's publisher; otherwise the remote organisation owns it."""
    doc: dict[str, Any] = {k: pkg[k] for k in SYNC_KEYS if pkg.get(k) not in (None, "", [])}
    for e in pkg.get("extras") or []:  # CKAN extras hold the governance fields of CKAN-shaped sources
        if isinstance(e, dict) and e.get("key") in SYNC_KEYS and e.get("key") not in doc:
            doc[e["key"]] = e.get("value")
    for key, limit in TRANSLATED.items():  # another catalogue's language codes may be written differently
        if key in doc:
            doc[key] = clean_translated(doc[key], limit)
    doc.setdefault("title", pkg.get("name"))
    doc.setdefault("access_level", "open")
    doc["tags"] = [{"name": t["name"] if isinstance(t, dict) else str(t)} for t in pkg.get("tags") or []]
    org = pkg.get("organization")
    if source.get("org"):
        doc["owner_org"] = source["org"]
        publisher = _remote_publisher(pkg)
        if publisher:
            doc["publisher"] = publisher
    elif isinstance(org, dict) and org.get("name"):
        doc["owner_org"] = org["name"]
    doc["resources"] = [{k: r[k] for k in ("name", "description", "url", "format", "size")
                         if r.get(k) not in (None, "")} for r in pkg.get("resources") or [] if isinstance(r, dict)]
    doc["extras"] = [{"key": "harvest_source", "value": source["name"]},
                     {"key": "harvest_url", "value": source["url"]},
                     {"key": "harvest_remote_id", "value": str(pkg.get("remote_id") or pkg.get("name"))}]
    return doc


def _remote_publisher(pkg: dict[str, Any]) -> str:
    """The publisher a remote package names: its own ``publisher`` field (or extra), else its organisation."""
    given = pkg.get("publisher")
    if not given:
        given = next((e.get("value") for e in pkg.get("extras") or []
                      if isinstance(e, dict) and e.get("key") == "publisher"), None)
    org = pkg.get("organization")
    if not given and isinstance(org, dict):
        given = org.get("title") or org.get("name")
    return str(given or "")


def content_hash(doc: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def _ensure_org(platform: Platform, pkg: dict[str, Any], known: set[str]) -> None:
    org = pkg.get("organization")
    if not isinstance(org, dict) or not org.get("name") or org["name"] in known:
        return
    try:
        await catalog.organization(platform, ADMIN, str(org["name"]))
    except NotFound:
        await catalog.write(platform, "organization_create", ADMIN,
                            {"name": org["name"], "title": org.get("title") or org["name"]})
    known.add(str(org["name"]))


async def _exists(platform: Platform, name: str) -> dict[str, Any] | None:
    try:
        return await catalog.show(platform, ADMIN, name)
    except NotFound:
        return None


def harvest_client(platform: Platform, src: dict[str, Any]) -> OutboundClient:
    """The outbound client of one harvest run of ``src`` (its credentials bound to the source's origin)."""
    s = platform.settings
    auth = source_auth(src)
    return OutboundClient(platform.gate.outbound, timeout=float(s.harvest_timeout), max_bytes=int(s.harvest_max_bytes),
                          size_setting="harvest_max_bytes", transfer_seconds=float(s.outbound_transfer_seconds),
                          headers={"User-Agent": "urbanos-harvester"},
                          credentials=Credentials.for_url(str(src["url"]), auth) if auth else None)


async def _fetch(platform: Platform, src: dict[str, Any], client: OutboundClient | None) -> list[dict[str, Any]]:
    """Every remote package of the source (SourceError when it cannot be read completely)."""
    own: OutboundClient | None = client
    try:
        if own is None:
            own = harvest_client(platform, src)
        fetch = fetch_ckan if src["type"] == "ckan" else fetch_dcat
        return await fetch(own, src["url"])
    finally:
        if client is None and own is not None:
            await own.aclose()


async def _put(platform: Platform, src: dict[str, Any], pkg: dict[str, Any], doc: dict[str, Any],
               prior: dict[str, str] | None, orgs: set[str]) -> str:
    """Create or update the local copy of one remote package; returns the count it adds to."""
    if not src.get("org"):  # a source with its own local organisation never creates the remote one here
        await _ensure_org(platform, pkg, orgs)
    current = await _exists(platform, doc["name"])
    if current is not None and not prior:
        owner = next((e.get("value") for e in current.get("extras") or []
                      if e.get("key") == "harvest_source"), current.get("harvest_source"))
        if owner != src["name"] and current.get("state", "active") == "active":
            raise UrbanosError(f"dataset name {doc['name']!r} is taken by a local dataset", status=409)
    if current is None:
        await catalog.write(platform, "package_create", ADMIN, doc)
        return "created"
    await catalog.write(platform, "package_update", ADMIN, {**doc, "id": doc["name"]})
    return "updated"


async def _withdraw(platform: Platform, src: dict[str, Any], gone: dict[str, dict[str, str]], counts: dict[str, int],
                    errors: list[str], listed: set[str]) -> None:
    """Withdraw (package_delete) the local copies of remote packages the source no longer lists. A copy whose name a
    listed package still has stays: the source answers a new id for the same package (an urbanos source that moved
    from integer ids to UUIDs), and only the record of the old id goes."""
    for rid, obj in gone.items():
        if obj["local_name"] in listed:
            await store.drop_object(platform.db, src["name"], rid)
            continue
        try:
            await catalog.write(platform, "package_delete", ADMIN, obj["local_name"])
            counts["deleted"] += 1
        except NotFound:
            pass
        except UrbanosError as exc:
            counts["failed"] += 1
            errors.append(f"{obj['local_name']}: {exc.message}")
            continue
        await store.drop_object(platform.db, src["name"], rid)


async def run_source(platform: Platform, src: dict[str, Any], progress: Callable[[str, int, int], None] | None = None,
                     client: OutboundClient | None = None) -> dict[str, Any]:
    """Harvest one source; returns the log entry (status, counts, message)."""
    s = platform.settings
    started = now_stored()
    counts = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0, "failed": 0}
    errors: list[str] = []
    try:
        remote = await _fetch(platform, src, client)
    except SourceError as exc:
        message = str(exc)
        log.warning("harvest %s: source failed, retry later: %s", src["name"], message)
        await store.log_run(platform.db, src["name"], started, "error", counts, message,
                            now_stored(float(s.harvest_retry_seconds)), failed_run=True)
        return {"source": src["name"], "status": "error", "message": message, **counts}
    have = await store.objects(platform.db, src["name"])
    orgs: set[str] = set()
    seen: set[str] = set()
    listed: set[str] = set()  # local names of the packages the source lists now
    for i, pkg in enumerate(remote):
        rid = str(pkg.get("remote_id") or pkg.get("name"))
        seen.add(rid)
        doc = _local_doc(pkg, src)
        listed.add(str(doc.get("name")))
        digest = content_hash(doc)
        try:
            prior = have.get(rid)
            if prior and prior["content_hash"] == digest and await _exists(platform, prior["local_name"]):
                counts["unchanged"] += 1
            else:
                counts[await _put(platform, src, pkg, doc, prior, orgs)] += 1
                await store.put_object(platform.db, src["name"], rid, doc["name"], digest)
        except UrbanosError as exc:
            counts["failed"] += 1
            errors.append(f"{doc.get('name')}: {exc.message}")
            log.warning("harvest %s: %s failed: %s", src["name"], doc.get("name"), exc.message)
        if progress:
            progress(src["name"], i + 1, len(remote))
    await _withdraw(platform, src, {rid: obj for rid, obj in have.items() if rid not in seen}, counts, errors, listed)
    status = "ok" if not counts["failed"] else "partial"
    interval = float(s.harvest_interval)
    next_run = now_stored(interval) if interval > 0 else None
    message = "; ".join(errors)[:2000]
    await store.log_run(platform.db, src["name"], started, status, counts, message, next_run, failed_run=False)
    return {"source": src["name"], "status": status, "message": message, **counts}


async def run(platform: Platform, name: str | None = None, progress: Callable[[str, int, int], None] | None = None,
              ) -> list[dict[str, Any]]:
    return [await run_source(platform, src, progress) for src in await store.sources(platform.db, name)]


__all__ = ["run", "run_source", "fetch_ckan", "fetch_dcat", "SourceError", "content_hash", "harvest_client"]
