"""Who an MQTT client is, and how its session follows revokes and membership changes.

A client authenticates at CONNECT (its password is an API token) and its session keeps that identity. A background
task asks the gate about once per ``Gate.RECHECK_SECONDS`` whether the credentials version moved (a token revoked, a
membership changed, in any process); when it did, every session that gave credentials is verified again: a session
whose credentials no longer hold is disconnected (and not kept for a resume), one whose rights changed gets its new
identity, so later notifications render with the new rights.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from urbanos.errors import Unauthorized, UrbanosError
from urbanos.governance.identity import ANONYMOUS
from urbanos.sensing.mqtt import codec
from urbanos.sensing.mqtt.hooks import Refused

if TYPE_CHECKING:
    from urbanos.governance import Gate, Identity
    from urbanos.sensing.mqtt.broker import Broker

log = logging.getLogger("urbanos.mqtt")


def token_of(password: bytes | None) -> str:
    """The token an MQTT password carries; ValueError when it is not UTF-8 text."""
    return (password or b"").decode("utf-8").strip()


async def authenticate(gate: Gate, password: bytes | None, peer: str) -> Identity:
    """The identity of the token given as the MQTT password; ANONYMOUS without one; :class:`Refused` (with its
    CONNACK code) otherwise. Failed verifications count against the client's address ``peer`` (the gate's limit of
    failed authentications per address)."""
    try:
        token = token_of(password)
    except ValueError:
        gate.record_failure(peer or None)
        raise Refused(codec.BAD_CREDENTIALS, "the password is not a token (not UTF-8 text)") from None
    if not token:
        return ANONYMOUS
    if not (token.isascii() and token.isprintable()):
        # API tokens, OIDC tokens and the admin token are printable ASCII (HTTP headers carry them)
        gate.record_failure(peer or None)
        raise Refused(codec.BAD_CREDENTIALS, "the password is not a token (not printable ASCII)")
    try:
        return await gate.authenticate(token, client=peer or None)
    except UrbanosError as exc:
        if exc.status == 429:  # this address failed too often: refused, like any client that may not connect
            raise Refused(codec.NOT_AUTHORIZED, exc.message) from None
        if exc.status >= 500:  # cannot tell now (database away): try later
            raise Refused(codec.UNAVAILABLE, "credentials cannot be checked now") from None
        raise Refused(codec.BAD_CREDENTIALS, exc.message) from None


def may_take_over(held: Identity | None, new: Identity | None) -> bool:
    """A client id is taken over by the same identity (subject), or by an authenticated client from an anonymous one
    (anonymous clients cannot be told apart, and their sessions carry open data only; a client with a token is not
    locked out of its id by an anonymous squatter). Anyone else is refused."""
    held, new = held or ANONYMOUS, new or ANONYMOUS
    if held.subject == new.subject and held.kind == new.kind:
        return True
    return bool(held.is_anonymous and not new.is_anonymous)


class CredentialWatch:
    """Verifies the sessions of ``broker`` again when the gate's credentials version moves."""

    def __init__(self, broker: Broker, gate: Gate, count: Callable[[str, str], None]) -> None:
        self.broker = broker
        self.gate = gate
        self.count = count

    async def follow(self) -> None:
        """Every ``RECHECK_SECONDS`` or so: when the credentials version moved, verify the sessions again.

        Never raises (a failure is logged and counted, and the next round tries again); cancelled at stop.
        """
        interval = float(self.gate.RECHECK_SECONDS)
        seen: int | None = None
        while True:
            await asyncio.sleep(interval)
            try:
                b = self.broker
                if not any(s.credentials for s in b.sessions.values()) and \
                        not any(s.credentials for s, _t in b.parked.values()):
                    continue  # ``seen`` stays: a move meanwhile is noticed once sessions come
                moved, version = await self.gate.credentials_changed_since(seen)
                if version is None:
                    continue  # not readable now
                # the first time, sessions may have connected before any version was read: verify them once
                if (moved or seen is None) and await self.reauthenticate():
                    seen = version
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the broker goes on; the next round tries again
                log.exception("mqtt: following credential changes failed")
                self.count("recheck_failed", "error")

    async def reauthenticate(self) -> bool:
        """Verify again every session (connected or kept) that gave credentials at CONNECT: end those whose
        credentials no longer hold, give the others their current identity. Each distinct credential is
        verified once. True when every session could be checked (False: try again later)."""
        b = self.broker
        sessions = [s for s in b.sessions.values() if s.credentials] + [s for s, _t in b.parked.values() if s.credentials]
        verdicts: dict[tuple[str | None, bytes], Identity | None] = {}
        complete = True
        for s in sessions:
            creds = s.credentials
            if creds is None or (s.closed and not s.parked):
                continue  # gone meanwhile
            if creds not in verdicts:
                try:
                    verdicts[creds] = await self.gate.authenticate(token_of(creds[1]))
                except (Unauthorized, ValueError):
                    verdicts[creds] = None
                except Exception as exc:  # noqa: BLE001 - cannot tell now (database away): keep, check later
                    log.warning("mqtt: could not verify the credentials of %r again: %r", s, exc)
                    complete = False
                    continue
            ident = verdicts[creds]
            if s.credentials is not creds:
                continue
            if ident is None:
                log.info("mqtt: ending %r: its credentials are no longer valid", s)
                self.count("disconnected", "credentials_revoked")
                if s.parked:
                    b.drop_parked(s)
                else:
                    await s.end()
            elif ident != s.identity:
                log.info("mqtt: %r: its rights changed; notifications follow them", s)
                self.count("identity_changed", "credentials_changed")
                s.identity = ident
        return complete


__all__ = ["CredentialWatch", "authenticate", "may_take_over", "token_of"]
