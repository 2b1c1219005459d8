"""Rate limits on what residents send (Open311 service requests and the report form, planning contributions,
comments and ratings, budget ideas, ballots and letter codes): one budget per API token, or voter key, of
``participation_posts_per_minute`` and one per client address of ``participation_posts_per_minute_per_address``,
shared by every kind of post, and by every server process (``--workers N``) when several run. An API answers 429 with ``Retry-After`` in its own error format (Open311 its error
list, the others problem+json); a form page answers a readable 429 page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse

from urbanos.core.lang import pick_lang, translator
from urbanos.errors import RateLimited
from urbanos.governance.counters import make_counter
from urbanos.governance.throttle import client_key
from urbanos.platform import render_html
from urbanos.routing import platform_of

if TYPE_CHECKING:
    from urbanos.settings import Settings
    from urbanos.storage import Database

SERVICE = "participation_limits"
MESSAGES: dict[str, dict[str, str]] = {
    "en": {"title": "Too many posts", "text": "You have sent more than this site accepts in a minute, from your "
           "address or with your key.", "wait": "Please wait {n} seconds, then go back and send it again.",
           "back": "Back to the page"},
    "de": {"title": "Zu viele Beiträge", "text": "Von Ihrer Adresse oder mit Ihrem Schlüssel wurde mehr gesendet, "
           "als diese Seite in einer Minute annimmt.", "wait": "Bitte warten Sie {n} Sekunden, gehen Sie dann zurück "
           "und senden Sie es erneut.", "back": "Zurück zur Seite"},
}


class Limits:
    """The two limits, counted where every server process sees them when several run (the bus crosses processes:
    a PostgreSQL table or Redis, :mod:`urbanos.governance.counters`), else in this process's token buckets."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.per_token = int(settings.participation_posts_per_minute)
        self.per_address = int(settings.participation_posts_per_minute_per_address)
        self.counter = make_counter(settings, db, "participation")

    async def take(self, subject: str | None, client: str | None, what: str = "posts") -> None:
        """RateLimited when ``subject`` (a token's subject or a voter key; None: counted by address only) or the
        client address has used up its posts; otherwise count this post against both."""
        wait = await self.counter.take([("posts", subject, self.per_token),
                                        ("address", client_key(client), self.per_address)])
        if wait:
            raise RateLimited(f"Too many {what}; try again in {wait} s.", retry_after=wait)


async def take(request: Request, subject: str | None, what: str = "posts") -> None:
    """:meth:`Limits.take` for the client of ``request``."""
    limits: Limits = platform_of(request).services[SERVICE]
    await limits.take(subject, request.client.host if request.client else None, what)


def too_many_page(request: Request, exc: RateLimited, back: str) -> HTMLResponse:
    """The readable 429 page of a form (English or German), with ``Retry-After``."""
    lang = pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    t = translator(MESSAGES, lang)
    body = render_html(platform_of(request), "participation/too_many.html", lang=lang, t=t, wait=exc.retry_after,
                       back=back)
    return HTMLResponse(body, status_code=429, headers={**exc.headers, "Cache-Control": "no-store",
                                                        "Content-Language": lang})


__all__ = ["Limits", "take", "too_many_page", "SERVICE", "MESSAGES"]
