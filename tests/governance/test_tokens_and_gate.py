"""API tokens, the admin token, role checks and the dataset filter of the gate."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from urbanos.errors import Forbidden, Unauthorized
from urbanos.governance import ANONYMOUS, DatasetAccess, Gate, Identity, Membership
from urbanos.governance.tokens import create_token, list_tokens, revoke_token


def test_token_is_hashed_and_verifies(platform: Any) -> None:
    secret = platform.db.write_sync(lambda c: create_token(c, "publisher", "mobility", "counter app"))
    stored = platform.db.read_sync(lambda c: c.fetchval("SELECT secret_hash FROM api_tokens"))
    assert secret.split("_", 2)[2] not in stored and stored.startswith("$argon2")
    ident = platform.gate.authenticate_sync(secret)
    assert ident.kind == "token" and ident.has_role("publisher", "mobility")
    assert not ident.has_role("publisher", "environment")
    assert ident.application == "counter app"


def test_revoked_and_wrong_tokens_are_refused(platform: Any) -> None:
    secret = platform.db.write_sync(lambda c: create_token(c, "reader"))
    tid = int(secret.split("_")[1])
    platform.db.write_sync(lambda c: revoke_token(c, tid))
    platform.gate.forget_tokens()
    with pytest.raises(Unauthorized) as err:
        platform.gate.authenticate_sync(secret)
    assert "WWW-Authenticate" in err.value.headers
    with pytest.raises(Unauthorized):
        platform.gate.authenticate_sync("uos_999_nope")
    with pytest.raises(Unauthorized):
        platform.gate.authenticate_sync(secret[:-2] + "xx")
    assert [t.revoked_at is not None for t in platform.db.read_sync(list_tokens)] == [True]


def test_admin_token_from_settings(platform: Any) -> None:
    ident = asyncio.run(platform.gate.authenticate("test-admin-token-0123456789"))
    assert ident.is_admin


def test_bare_and_bearer_token_forms() -> None:
    assert Gate.token_from_headers("Bearer abc") == "abc"
    assert Gate.token_from_headers("abc") == "abc"
    assert Gate.token_from_headers(None, "abc") == "abc"
    assert Gate.token_from_headers("Basic Zm9vOmJhcg==") is None
    assert Gate.token_from_headers(None) is None


def test_require_gives_401_then_403() -> None:
    with pytest.raises(Unauthorized):
        Gate.require(ANONYMOUS, "publisher")
    reader = Identity("token:1", "token", frozenset({Membership("reader")}))
    with pytest.raises(Forbidden):
        Gate.require(reader, "publisher")
    steward = Identity("token:2", "token", frozenset({Membership("steward", "env")}))
    Gate.require(steward, "publisher", "env")
    with pytest.raises(Forbidden):
        Gate.require(steward, "publisher", "mobility")


def _seed(c: Any) -> None:
    now = datetime.now(UTC).isoformat()
    for name, org, level in [
        ("open-ds", "env", "open"),
        ("reg-ds", "env", "registered"),
        ("int-env", "env", "internal"),
        ("int-mob", "mobility", "internal"),
        ("conf-ds", "env", "confidential"),
    ]:
        c.execute(
            "INSERT INTO datasets (name, owner_org, access_level, created_at, modified_at) VALUES (?, ?, ?, ?, ?)",
            (name, org, level, now, now),
        )
    conf = c.fetchval("SELECT id FROM datasets WHERE name = 'conf-ds'")
    c.execute("INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, ?, ?)", (conf, "token:7", now))


IDENTITIES = {
    "anonymous": (ANONYMOUS, {"open-ds"}),
    "registered": (Identity("token:3", "token", frozenset({Membership("reader")})), {"open-ds", "reg-ds"}),
    "env member": (Identity("token:4", "token", frozenset({Membership("reader", "env")})), {"open-ds", "reg-ds", "int-env"}),
    "granted": (Identity("token:7", "token", frozenset({Membership("reader")})), {"open-ds", "reg-ds", "conf-ds"}),
    "admin": (Identity("admin-token", "admin-token", frozenset({Membership("admin")})), {"open-ds", "reg-ds", "int-env", "int-mob", "conf-ds"}),
}


@pytest.mark.parametrize("who", list(IDENTITIES))
def test_dataset_filter_and_can_read_agree(platform: Any, who: str) -> None:
    ident, expected = IDENTITIES[who]
    platform.db.write_sync(_seed)

    def visible(c: Any) -> set[str]:
        sql, params = platform.gate.dataset_filter(ident, "d.id")
        return {r[0] for r in c.fetchall(f"SELECT d.name FROM datasets d WHERE {sql}", params)}

    assert platform.db.read_sync(visible) == expected

    def each(c: Any) -> set[str]:
        out = set()
        for (ds_id,) in c.fetchall("SELECT id FROM datasets"):
            ds, grants = platform.gate.dataset_access(c, ds_id)
            if platform.gate.can_read(ident, ds, grants):
                out.add(ds.name)
        return out

    assert platform.db.read_sync(each) == expected


def test_rows_without_dataset_are_open(platform: Any) -> None:
    sql, params = platform.gate.dataset_filter(ANONYMOUS, "x")
    assert platform.db.read_sync(lambda c: c.fetchval(f"SELECT 1 FROM (SELECT CAST(NULL AS BIGINT) AS x) t WHERE {sql}", params)) == 1


def test_transforms_and_observers_run_for_non_open_data(platform: Any) -> None:
    seen: list[str] = []
    platform.gate.add_transform(lambda ident, ds, rows: [{**r, "name": "***"} for r in rows])
    platform.gate.add_observer(lambda ident, ds, action: seen.append(f"{ds.name}:{action}"))
    ds = DatasetAccess(1, "int-env", "env", "internal")
    assert platform.gate.transform(ANONYMOUS, ds, [{"name": "x"}]) == [{"name": "***"}]
    platform.gate.observe(ANONYMOUS, ds, "read")
    platform.gate.observe(ANONYMOUS, DatasetAccess(2, "open-ds", None, "open"), "read")
    assert seen == ["int-env:read"]


def test_a_verification_running_across_a_revoke_is_not_remembered(platform: Any, monkeypatch: Any) -> None:
    """A token verified while it is being revoked: the answer to the caller who asked before the revoke may be the
    old one, but it is not cached, and a caller asking after the revoke does not wait for that verification (the
    old code kept the stale identity for ``token_cache_seconds``, and an external MQTT link kept it for good)."""
    secret = platform.db.write_sync(lambda c: create_token(c, "publisher", None, "link"))
    tid = int(secret.split("_")[1])
    gate = platform.gate
    real = gate._verify
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(token: str) -> Any:
        ident = await real(token)  # read before the revoke
        started.set()
        await release.wait()
        return ident

    async def scenario() -> tuple[Any, Any]:
        monkeypatch.setattr(gate, "_verify", slow)
        before = asyncio.ensure_future(gate.authenticate(secret))
        await started.wait()
        await platform.db.write(lambda c: revoke_token(c, tid))
        gate.forget_tokens()  # what the revoke's event does in every process
        monkeypatch.setattr(gate, "_verify", real)
        try:
            after: Any = await asyncio.wait_for(gate.authenticate(secret), 10)
        except Unauthorized as exc:
            after = exc
        except TimeoutError:
            after = "waited for the verification begun before the revoke"
        release.set()
        return await before, after

    old, new = asyncio.run(scenario())
    assert old.has_role("publisher")
    assert isinstance(new, Unauthorized)
    with pytest.raises(Unauthorized):
        asyncio.run(gate.authenticate(secret))
