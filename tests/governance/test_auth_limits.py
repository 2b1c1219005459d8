"""What a stranger's bearer tokens may cost: unknown and revoked token ids are refused without hashing, refused
tokens never push valid ones out of the cache, failures are limited per client address (429 with Retry-After),
and the argon2 verifications run in a bounded pool of their own."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from typing import Any

import pytest

from urbanos.errors import TooManyRequests, Unauthorized
from urbanos.governance import tokens
from urbanos.governance.tokens import create_token, revoke_token


class CountingHasher:
    """Wraps the argon2 hasher: counts verifications, records their threads and how many ran at once."""

    def __init__(self, inner: Any, delay: float = 0.0) -> None:
        self.inner, self.delay = inner, delay
        self.calls = 0
        self.threads: set[str] = set()
        self.active = 0
        self.most = 0
        self._lock = threading.Lock()

    def hash(self, secret: str) -> str:
        return str(self.inner.hash(secret))

    def verify(self, stored: str, secret: str) -> bool:
        with self._lock:
            self.calls += 1
            self.active += 1
            self.most = max(self.most, self.active)
            self.threads.add(threading.current_thread().name)
        try:
            if self.delay:
                time.sleep(self.delay)
            return bool(self.inner.verify(stored, secret))
        finally:
            with self._lock:
                self.active -= 1


@pytest.fixture
def hasher(monkeypatch: Any) -> CountingHasher:
    counting = CountingHasher(tokens._HASHER)
    monkeypatch.setattr(tokens, "_HASHER", counting)
    return counting


def _platform(make_settings: Any, **overrides: Any) -> Any:
    from urbanos.web.app import create_app

    return create_app(make_settings(**overrides)).state.platform


def _wrong(token: str) -> str:
    """The same token id with another secret."""
    prefix, tid, _ = token.split("_", 2)
    return f"{prefix}_{tid}_{secrets.token_urlsafe(32)}"


def _outcome(coro: Any) -> str:
    try:
        asyncio.run(coro)
    except TooManyRequests:
        return "429"
    except Unauthorized:
        return "401"
    return "ok"


def test_unknown_and_revoked_ids_are_refused_without_hashing(platform: Any, hasher: CountingHasher) -> None:
    secret = platform.db.write_sync(lambda c: create_token(c, "reader"))
    platform.db.write_sync(lambda c: revoke_token(c, int(secret.split("_")[1])))
    for token in (secret, "uos_999999_" + "x" * 43, "uos_99999999999999999999999999_x", "uos_0_x", "junk"):
        with pytest.raises(Unauthorized):
            asyncio.run(platform.gate.authenticate(token))
    assert hasher.calls == 0


def test_refused_tokens_never_push_valid_ones_out_of_the_cache(platform: Any, hasher: CountingHasher) -> None:
    secret = platform.db.write_sync(lambda c: create_token(c, "publisher", "mobility"))
    gate = platform.gate

    async def main() -> None:
        assert (await gate.authenticate(secret)).has_role("publisher", "mobility")
        for i in range(10_050):  # more refused tokens than the cache holds
            with pytest.raises(Unauthorized):
                await gate.authenticate(f"stranger-{i}-{secrets.token_hex(8)}")
        await gate.authenticate(secret)

    asyncio.run(main())
    assert hasher.calls == 1  # the valid token was verified once: its cache entry survived


def test_failures_are_limited_per_client_address(make_settings: Any, hasher: CountingHasher) -> None:
    platform = _platform(make_settings)  # auth_failures_per_minute: 10 by default
    try:
        gate = platform.gate
        valid = platform.db.write_sync(lambda c: create_token(c, "reader"))
        other_valid = platform.db.write_sync(lambda c: create_token(c, "reader"))
        here = "198.51.100.7"
        assert _outcome(gate.authenticate(valid, client=here)) == "ok"  # verified, and cached
        for _ in range(10):
            assert _outcome(gate.authenticate(_wrong(valid), client=here)) == "401"
        calls = hasher.calls
        with pytest.raises(TooManyRequests) as info:
            asyncio.run(gate.authenticate(_wrong(valid), client=here))
        assert info.value.status == 429 and int(info.value.headers["Retry-After"]) >= 1
        assert hasher.calls == calls  # refused before any hashing
        assert _outcome(gate.authenticate(_wrong(valid), client="tcp:198.51.100.7:50123")) == "429"  # an MQTT peer
        assert _outcome(gate.authenticate(valid, client=here)) == "ok"  # verified already: still served
        assert _outcome(gate.authenticate(other_valid, client=here)) == "429"  # would need a verification
        assert _outcome(gate.authenticate(_wrong(valid), client="198.51.100.8")) == "401"  # another address
        assert _outcome(gate.authenticate(_wrong(valid))) == "401"  # internal callers are not limited
        for i in range(10):  # an IPv6 address counts with its /64
            assert _outcome(gate.authenticate(_wrong(valid), client=f"2001:db8:1:2::{i + 1}")) == "401"
        assert _outcome(gate.authenticate(_wrong(valid), client="2001:db8:1:2:aaaa::9")) == "429"
        assert _outcome(gate.authenticate(_wrong(valid), client="2001:db8:1:3::1")) == "401"
        for _ in range(10):  # failures a caller refused by itself (a malformed MQTT password) count the same
            gate.record_failure("tcp:192.0.2.44:1883")
        assert _outcome(gate.authenticate(_wrong(valid), client="192.0.2.44")) == "429"
    finally:
        platform.close()


def test_http_answers_429_with_retry_after(make_settings: Any) -> None:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    app = create_app(make_settings())  # auth_failures_per_minute: 10 by default
    with TestClient(app) as client:
        secret = client.post("/admin/tokens", json={"role": "reader", "name": "x"},
                             headers={"Authorization": "Bearer test-admin-token-0123456789"}).json()["token"]
        for _ in range(10):
            r = client.get("/admin/whoami", headers={"Authorization": f"Bearer {_wrong(secret)}"})
            assert r.status_code == 401
        r = client.get("/admin/whoami", headers={"Authorization": f"Bearer {_wrong(secret)}"})
        assert r.status_code == 429 and r.headers["retry-after"].isdigit()
        assert r.headers["content-type"] == "application/problem+json"
        ok = client.get("/admin/whoami", headers={"Authorization": "Bearer test-admin-token-0123456789"})
        assert ok.status_code == 200


def test_verifications_run_in_a_bounded_pool_of_their_own(make_settings: Any, monkeypatch: Any) -> None:
    platform = _platform(make_settings)  # auth_verify_concurrency: 2 by default
    try:
        valid = platform.db.write_sync(lambda c: create_token(c, "reader"))
        slow = CountingHasher(tokens._HASHER, delay=0.05)
        monkeypatch.setattr(tokens, "_HASHER", slow)

        async def main() -> list[Any]:
            return await asyncio.gather(*(platform.gate.authenticate(_wrong(valid)) for _ in range(8)),
                                        return_exceptions=True)

        results = asyncio.run(main())
        assert all(isinstance(r, Unauthorized) for r in results)
        assert slow.calls == 8 and slow.most <= 2
        assert all(name.startswith("urbanos-verify") for name in slow.threads), slow.threads
    finally:
        platform.close()


def test_concurrent_requests_with_one_token_share_one_verification(platform: Any, hasher: CountingHasher) -> None:
    valid = platform.db.write_sync(lambda c: create_token(c, "reader"))

    async def main() -> list[Any]:
        return await asyncio.gather(*(platform.gate.authenticate(valid) for _ in range(10)))

    assert {ident.subject for ident in asyncio.run(main())} == {f"token:{valid.split('_')[1]}"}
    assert hasher.calls == 1


def test_client_keys() -> None:
    from urbanos.governance.gate import client_key

    assert client_key("203.0.113.5") == client_key("tcp:203.0.113.5:1883") == client_key("ws:203.0.113.5:443")
    assert client_key("::ffff:203.0.113.5") == "203.0.113.5"
    assert client_key("tcp:2001:db8::1:5555") == client_key("2001:db8::ffff") == "2001:db8::/64"
    assert client_key("[2001:db8::1]:80") == "2001:db8::/64"
    assert client_key("testclient") == "testclient"
    assert client_key(None) is None and client_key("") is None


def test_the_limiter_refills_and_stays_bounded(monkeypatch: Any) -> None:
    from urbanos.governance.gate import FailureLimiter

    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    limiter = FailureLimiter(per_minute=6, size=3)
    for _ in range(6):
        assert limiter.retry_after("a") == 0
        limiter.failed("a")
    assert limiter.retry_after("a") == 10  # one more try every 60 / 6 seconds
    now[0] += 10
    assert limiter.retry_after("a") == 0
    for key in "bcd":
        limiter.failed(key)
    assert limiter.retry_after("a") == 0  # forgotten: the table keeps the three most recent addresses
    assert FailureLimiter(per_minute=0).retry_after("a") == 0
