"""Fetching feeds: every request goes through the platform's outbound policy
(:mod:`urbanos.governance.outbound`): public addresses only unless ``outbound_allow`` lists the host, each redirect
checked again, the body streamed and cut at ``connectors_max_bytes``, each wait bounded by ``connectors_timeout`` and
the whole transfer by ``connectors_transfer_seconds``.

A failure is a :class:`FeedError` with the reason a steward reads in the run log; ``retry`` says whether trying again
later may help (unreachable, slow, a 5xx or 429 answer) or not (refused address, too large, 4xx, malformed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from urbanos.errors import PayloadTooLarge, UrbanosError, ValidationFailed
from urbanos.governance.outbound import (
    Fetched,
    OutboundClient,
    OutboundError,
    OutboundPolicy,
    OutboundRefused,
)

if TYPE_CHECKING:
    from urbanos.settings import Settings


class FeedError(ValidationFailed):
    """A feed could not be read (unreachable, refused, too large, malformed); nothing was written."""

    code = "feed_failed"

    def __init__(self, message: str, *, retry: bool = False) -> None:
        super().__init__(message)
        self.retry = retry


class Fetcher:
    """The outbound client of one run; counts the bytes fetched."""

    def __init__(self, settings: Settings, policy: OutboundPolicy) -> None:
        self.client = OutboundClient(policy, timeout=float(settings.connectors_timeout),
                                     max_bytes=int(settings.connectors_max_bytes), size_setting="connectors_max_bytes",
                                     transfer_seconds=float(settings.connectors_transfer_seconds),
                                     headers={"User-Agent": "urbanos-connector", "Accept": "*/*"})
        self.bytes = 0
        self.fetches = 0

    async def aclose(self) -> None:
        await self.client.aclose()

    async def get(self, url: str) -> bytes:
        got = await self._get(url)
        if got.status != 200:
            raise FeedError(f"cannot fetch {url}: HTTP {got.status}", retry=got.status >= 500 or got.status == 429)
        return got.content

    async def get_optional(self, url: str) -> bytes | None:
        """As :meth:`get`, but None for what the server says it does not have or implement (HTTP 400, 404, 501):
        an optional part of a remote API."""
        got = await self._get(url)
        if got.status in (400, 404, 501):
            return None
        if got.status != 200:
            raise FeedError(f"cannot fetch {url}: HTTP {got.status}", retry=got.status >= 500 or got.status == 429)
        return got.content

    async def _get(self, url: str) -> Fetched:
        try:
            got = await self.client.get(url)
        except OutboundRefused as exc:
            raise FeedError(exc.message) from None
        except OutboundError as exc:
            raise FeedError(exc.message, retry=True) from None
        except PayloadTooLarge as exc:
            raise FeedError(exc.message) from None
        except UrbanosError as exc:
            raise FeedError(f"cannot fetch {url}: {exc.message}") from None
        self.fetches += 1
        self.bytes += got.size
        return got

    async def get_json(self, url: str) -> object:
        return parse_json(await self.get(url), url)


def parse_json(body: bytes, where: str) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FeedError(f"{where}: not valid JSON ({exc}); the feed may be truncated or malformed") from None


__all__ = ["FeedError", "Fetcher", "parse_json"]
