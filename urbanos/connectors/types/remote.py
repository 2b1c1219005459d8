"""Reading a remote API page by page (the SensorThings and OGC API Features mirrors): each page through the run's
:class:`~urbanos.connectors.fetch.Fetcher` (the outbound policy, size and time limits), next-page links followed only
while they stay on the server the connector names, and a bound on the pages of one listing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from urbanos.connectors.fetch import FeedError, parse_json
from urbanos.connectors.types.base import Job
from urbanos.errors import ValidationFailed

MAX_PAGES = 100_000


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def check_url(url: str, what: str) -> str:
    """``url`` without a trailing slash; ValidationFailed unless it is an absolute http(s) URL."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(f"A {what} connector's URL is the http(s) address of the remote service.",
                               detail={"url": ["an absolute http(s) URL"]})
    return url.rstrip("/")


def with_query(url: str, params: dict[str, Any]) -> str:
    q = urlencode({k: v for k, v in params.items() if v is not None}, safe="$(),/:;='@")
    return f"{url}{'&' if '?' in url else '?'}{q}" if q else url


def follow(base: str, link: Any, where: str) -> str:
    """The absolute next-page URL of ``link`` found on ``where``; FeedError when it leaves ``base``'s server."""
    if not isinstance(link, str) or not link:
        raise FeedError(f"{where}: the next-page link is not a URL")
    target = urljoin(where, link)
    if origin(target) != origin(base):
        raise FeedError(f"{where}: the next-page link {target[:200]} leaves the server {origin(base)[1]}; "
                        "the connector follows links on the server it names only")
    return target


async def get_object(job: Job, url: str) -> dict[str, Any]:
    assert job.fetcher is not None
    doc = parse_json(await job.fetcher.get(url), url)
    if not isinstance(doc, dict):
        raise FeedError(f"{url}: the answer is not a JSON object")
    return doc


async def pages(job: Job, url: str, items: str, next_of: Any, max_pages: int = MAX_PAGES
                ) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """``(page url, items)`` of each page of a listing from ``url``: ``items`` names the member holding the list
    (``value``, ``features``); ``next_of(doc)`` gives the next-page link or None."""
    seen: set[str] = set()
    while url:
        if url in seen or len(seen) >= max_pages:
            raise FeedError(f"{url}: the listing goes on beyond {len(seen)} pages or loops back on itself")
        seen.add(url)
        doc = await get_object(job, url)
        got = doc.get(items)
        if not isinstance(got, list) or not all(isinstance(v, dict) for v in got):
            raise FeedError(f"{url}: {items} is not a list of objects; the answer may be truncated or not from "
                            "the service the connector expects")
        yield url, got
        link = next_of(doc)
        url = follow(job.connector.url, link, url) if link is not None else ""


__all__ = ["origin", "check_url", "with_query", "follow", "get_object", "pages", "MAX_PAGES"]
