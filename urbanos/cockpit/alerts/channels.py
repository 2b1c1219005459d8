"""How one alert notification leaves the platform: a signed webhook POST under the outbound policy, and e-mail.

**Webhook**: ``POST`` of the notification's JSON with ``Content-Type: application/json`` and
``X-Urbanos-Signature: sha256=<hex HMAC-SHA256 of the exact body with the rule's secret>``. The URL goes through the
platform's outbound policy (:mod:`urbanos.governance.outbound`): only addresses it allows (``outbound_allow`` for
internal receivers), the connection pinned to the address that was checked, no redirects followed (a 3xx is a
failure), no proxies from the environment, no cookies kept, a bounded wait.

**E-mail**: through the SMTP server of the settings (``smtp_host``, ``smtp_port``, ``smtp_starttls``,
``smtp_username`` / ``smtp_password``), in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import smtplib
from email.message import EmailMessage
from typing import Any

import httpx

from urbanos.governance.outbound import OutboundError, OutboundPolicy, OutboundRefused, origin, target
from urbanos.governance.pinning import AsyncPinnedTransport, Pins, no_cookies

SIGNATURE_HEADER = "X-Urbanos-Signature"


class DeliveryFailed(Exception):
    """One attempt failed; ``final`` when trying again cannot help (the policy refuses the address)."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


def signature(secret: str, body: bytes) -> str:
    """The value of ``X-Urbanos-Signature`` for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_webhook(policy: OutboundPolicy, url: str, body: bytes, secret: str, *, timeout: float,
                       headers: dict[str, str] | None = None) -> int:
    """POST ``body`` to ``url`` signed with ``secret``; the status, or :class:`DeliveryFailed`."""
    try:
        u = target(url)
        _scheme, host, port = origin(u)
        pins: Pins = {(host, port): await asyncio.to_thread(policy.addresses, u.raw_host.decode("ascii"), port, url)}
    except OutboundRefused as exc:
        raise DeliveryFailed(exc.message, final=True) from None
    except OutboundError as exc:
        raise DeliveryFailed(exc.message) from None
    sent = {"Content-Type": "application/json", "User-Agent": "urbanos-alerts", SIGNATURE_HEADER:
            signature(secret, body), **(headers or {})}
    try:
        async with asyncio.timeout(timeout * 2), httpx.AsyncClient(
                transport=AsyncPinnedTransport(pins), follow_redirects=False, trust_env=False, cookies=no_cookies(),
                timeout=httpx.Timeout(timeout)) as client:
            resp = await client.post(u, content=body, headers=sent)
    except (httpx.HTTPError, TimeoutError) as exc:
        raise DeliveryFailed(f"cannot reach {u.host}: {type(exc).__name__}") from None
    if not 200 <= resp.status_code < 300:
        raise DeliveryFailed(f"the receiver answered HTTP {resp.status_code}")
    return resp.status_code


def send_mail(settings: Any, recipients: list[str], subject: str, text: str, *, timeout: float) -> None:
    """Send one plain-text message to ``recipients`` (blocking; run it in a thread)."""
    host = str(settings.get("smtp_host") or "")
    if not host:
        raise DeliveryFailed("no SMTP server is configured (setting smtp_host)", final=True)
    msg = EmailMessage()
    msg["From"] = str(settings.get("smtp_from") or "urbanos@localhost")
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg.set_content(text)
    try:
        with smtplib.SMTP(host, int(settings.get("smtp_port") or 25), timeout=timeout) as smtp:
            if settings.get("smtp_starttls"):
                smtp.starttls()
            user = str(settings.get("smtp_username") or "")
            if user:
                smtp.login(user, str(settings.get("smtp_password") or ""))
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"SMTP: {type(exc).__name__}: {str(exc)[:200]}") from None


__all__ = ["SIGNATURE_HEADER", "DeliveryFailed", "signature", "post_webhook", "send_mail"]
