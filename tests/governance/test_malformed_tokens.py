"""A token with characters beyond ASCII (a raw 0xB2 byte in the header is "²" to the server, a digit to
``str.isdigit`` but not to ``int``) is simply an invalid token: 401 in the standard's format (CKAN answers 403, as
CKAN does for a bad key), never a 500. Sent over a real socket: the in-process client re-encodes header bytes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from urbanos.governance.tokens import split

BAD = [b"uos_\xb2_x", b"uos_\xd9\xa1\xd9\xa2_secret", b"uos_1_\xb2\xff", b"uos_\xb9\xb2\xb3_abc", b"\xb2\xb2\xb2"]


def test_split_reads_ascii_only() -> None:
    assert split("uos_12_abc-_D9") == (12, "abc-_D9")
    for token in ("uos_²_x", "uos_١٢_x", "uos_12_a²", "uos_12_a b", "uos__x", "uos_12_", "uos_" + "9" * 20 + "_x", "x"):
        assert split(token) is None, token


def test_bad_bytes_in_tokens_are_401s_on_every_path(live_server: Any) -> None:
    url = live_server.url
    for raw in BAD:
        r = httpx.get(f"{url}/sta/v1.1/Things", headers={"Authorization": b"Bearer " + raw}, timeout=30)
        assert r.status_code == 401, (raw, r.status_code, r.text[:300])
        assert r.json()["code"] == 401 and "token" in r.json()["message"]

        r = httpx.get(f"{url}/admin/whoami", headers={"Authorization": b"Bearer " + raw}, timeout=30)
        assert r.status_code == 401, (raw, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == 401

        for headers in ({"X-CKAN-API-Key": raw}, {"Authorization": raw}):
            r = httpx.get(f"{url}/api/3/action/package_list", headers=headers, timeout=30)
            assert r.status_code == 403, (raw, r.status_code, r.text[:300])
            body = r.json()
            assert body["success"] is False and body["error"]["__type"] == "Authorization Error", body
    assert live_server.proc.poll() is None
    assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200


@pytest.mark.parametrize("token", ["uos_١٢_x", "uos_²_x"])
def test_lookalike_digits_never_name_a_token(client: Any, token: str) -> None:
    # through the in-process client the header arrives as UTF-8 text: a look-alike id is still no token
    r = client.get("/admin/whoami", headers={"Authorization": f"Bearer {token}".encode()})
    assert r.status_code == 401
