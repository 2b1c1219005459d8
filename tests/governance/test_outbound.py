"""The outbound-fetch policy: which addresses may be reached, the connection pinned to the address that was
checked, redirects checked hop by hop, credentials kept to their origin, size and scheme limits.

All traffic stays on loopback: 127.0.0.1 plays an allowed host (listed in the policy's allow-list) and
127.0.0.2 a host that must never be reached; ``*.test`` names resolve through a scripted resolver."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import pytest

from tests.conftest import SQLITE_RUN_ONLY
from tests.local_http import ScriptedResolver, serve, tls_files
from urbanos.errors import ConfigError, PayloadTooLarge
from urbanos.governance.outbound import (
    Credentials,
    OutboundClient,
    OutboundError,
    OutboundPolicy,
    OutboundRefused,
    OutboundSyncClient,
    is_public,
)

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end

REFUSED = ["127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
           "100.127.255.254", "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
           "192.0.2.1", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1",
           "ff0e::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::1",
           "2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "::7f00:1", "2001:db8::1",
           "2001:0:4136:e378:8000:63bf:3fff:fdd2"]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1",
          "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    policy = OutboundPolicy(resolver=ScriptedResolver({"host.test": [[address]]}))
    with pytest.raises(OutboundRefused) as info:
        policy.addresses("host.test", 80, "http://host.test/")
    assert "not a public address" in info.value.message and "outbound_allow" in info.value.message


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_one_private_answer_refuses_the_host() -> None:
    policy = OutboundPolicy(resolver=ScriptedResolver({"mixed.test": [["8.8.8.8", "10.0.0.5"]]}))
    with pytest.raises(OutboundRefused):
        policy.addresses("mixed.test", 443)


def test_allow_list_of_hosts_addresses_and_networks() -> None:
    networks, hosts = OutboundPolicy.parse_allow(["10.20.0.0/16", "127.0.0.1", "CKAN.Intranet.", "fd00::/8"])
    policy = OutboundPolicy(networks=networks, hosts=hosts, resolver=ScriptedResolver({
        "ckan.intranet": [["192.168.7.7"]], "a.test": [["10.20.3.4"]], "b.test": [["10.21.0.1"]],
        "m.test": [["::ffff:127.0.0.1"]], "v6.test": [["fd00::5"]]}))
    assert policy.addresses("ckan.intranet", 80) == ("192.168.7.7",)
    assert policy.addresses("a.test", 80) == ("10.20.3.4",)
    assert policy.addresses("m.test", 80) == ("127.0.0.1",)  # an IPv4-mapped address is its IPv4 address
    assert policy.addresses("v6.test", 80) == ("fd00::5",)
    with pytest.raises(OutboundRefused):
        policy.addresses("b.test", 80)
    with pytest.raises(ConfigError) as info:
        OutboundPolicy.parse_allow(["http://x.example/"])
    assert "outbound_allow" in info.value.message


def test_from_settings(make_settings: Any) -> None:
    policy = OutboundPolicy.from_settings(make_settings(outbound_allow="127.0.0.1,intranet.example",
                                                        outbound_max_redirects=2))
    assert policy.hosts == {"intranet.example"} and policy.max_redirects == 2
    from urbanos.governance import Gate

    with pytest.raises(ConfigError) as info:  # checked when the gate is built, at start
        Gate(make_settings(outbound_allow="not a host"), None)  # type: ignore[arg-type]
    assert "outbound_allow" in info.value.message


def test_unresolvable_host_is_an_outbound_error() -> None:
    with pytest.raises(OutboundError) as info:
        OutboundPolicy(resolver=ScriptedResolver({})).addresses("nowhere.test", 80)
    assert "does not resolve" in info.value.message


def _client(policy: OutboundPolicy, *, sync: bool, **kw: Any) -> Any:
    args = {"timeout": 5.0, "max_bytes": 10_000, "size_setting": "some_max_bytes", **kw}
    return OutboundSyncClient(policy, **args) if sync else OutboundClient(policy, **args)


def _get(policy: OutboundPolicy, url: str, *, sync: bool, **kw: Any) -> Any:
    """One GET with a fresh client, sync or async."""
    if sync:
        with _client(policy, sync=True, **kw) as client:
            return client.get(url)

    async def main() -> Any:
        async with _client(policy, sync=False, **kw) as client:
            return await client.get(url)

    return asyncio.run(main())


LOOPBACK_OK = OutboundPolicy(networks=(ipaddress.ip_network("127.0.0.1/32"),))


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_connection_goes_to_the_checked_address_not_a_second_answer(sync: bool) -> None:
    """DNS rebinding: the name answers 127.0.0.1 (allowed) when checked and 127.0.0.2 (refused) afterwards;
    the name is resolved once and the connection goes to the address that was checked."""
    with serve({"/data": (200, {}, b"the checked host")}) as good, \
            serve({"/data": (200, {}, b"the other host")}, host="127.0.0.2") as bad:
        resolver = ScriptedResolver({"rebind.test": [["127.0.0.1"], ["127.0.0.2"]]})
        got = _get(LOOPBACK_OK.with_resolver(resolver), f"http://rebind.test:{good.port}/data", sync=sync)
        assert got.status == 200 and got.content == b"the checked host"
        assert resolver.calls == ["rebind.test"]
        assert bad.hits == []
        assert good.hits[0].headers["host"] == f"rebind.test:{good.port}"  # the server still sees its own name


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_every_redirect_hop_is_checked(sync: bool) -> None:
    with serve({"/secret": (200, {}, b"internal")}, host="127.0.0.2") as internal:
        with serve({"/go": (302, {"Location": f"{internal.url}/secret"}, b""),
                    "/file": (302, {"Location": "file:///etc/passwd"}, b"")}) as front:
            with pytest.raises(OutboundRefused) as info:
                _get(LOOPBACK_OK, f"{front.url}/go", sync=sync)
            assert "127.0.0.2" in info.value.message and "not a public address" in info.value.message
            with pytest.raises(OutboundRefused) as info:
                _get(LOOPBACK_OK, f"{front.url}/file", sync=sync)
            assert "only http and https" in info.value.message
        assert internal.hits == []


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_redirects_are_followed_up_to_the_limit(sync: bool) -> None:
    with serve({"/loop": (302, {"Location": "/loop"}, b""), "/a": (301, {"Location": "/b"}, b""),
                "/b": (307, {"Location": "/c"}, b""), "/c": (200, {}, b"end")}) as srv:
        policy = OutboundPolicy(networks=LOOPBACK_OK.networks, max_redirects=3)
        got = _get(policy, f"{srv.url}/a", sync=sync)
        assert (got.status, got.content, got.redirects) == (200, b"end", 2) and got.url.endswith("/c")
        srv.hits.clear()
        with pytest.raises(OutboundRefused) as info:
            _get(policy, f"{srv.url}/loop", sync=sync)
        assert "outbound_max_redirects" in info.value.message
        assert len(srv.hits) == 4  # the first request and three redirects


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_credentials_only_reach_their_own_origin(sync: bool) -> None:
    with serve({"/page": (200, {}, b"other")}) as other:
        with serve({"/start": (302, {"Location": f"http://b.test:{other.port}/page", "Set-Cookie": "sid=abc; Path=/"},
                               b""),
                    "/same": (302, {"Location": "/end", "Set-Cookie": "sid=abc; Path=/"}, b""),
                    "/end": (200, {}, b"end")}) as source:
            resolver = ScriptedResolver({"a.test": [["127.0.0.1"]], "b.test": [["127.0.0.1"]]})
            creds = Credentials.for_url(f"http://a.test:{source.port}/", {"Authorization": "Bearer s3cret"})
            policy = LOOPBACK_OK.with_resolver(resolver)
            got = _get(policy, f"http://a.test:{source.port}/start", sync=sync, credentials=creds)
            assert got.content == b"other"
            assert source.header_values("authorization") == ["Bearer s3cret"]
            assert other.header_values("authorization") == [None]  # another host: no credentials
            assert other.header_values("cookie") == [None]  # and no cookie the first host set
            source.hits.clear()
            _get(policy, f"http://a.test:{source.port}/same", sync=sync, credentials=creds)
            assert source.header_values("authorization") == ["Bearer s3cret", "Bearer s3cret"]
            assert source.header_values("cookie") == [None, None]  # cookies are never kept
            source.hits.clear()
            https = Credentials.for_url(f"https://a.test:{source.port}/", {"Authorization": "Bearer s3cret"})
            _get(policy, f"http://a.test:{source.port}/end", sync=sync, credentials=https)
            assert source.header_values("authorization") == [None]  # not the origin: the scheme differs
    with pytest.raises(ValueError):
        OutboundSyncClient(LOOPBACK_OK, timeout=1, max_bytes=1, size_setting="x", headers={"Authorization": "x"})


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_body_size_is_limited_while_streaming(sync: bool) -> None:
    big = b"x" * 50_000
    with serve({"/declared": (200, {}, big),
                "/chunked": (200, {"Transfer-Encoding": "chunked"},
                             b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in [big[:20_000]] * 3) + b"0\r\n\r\n"),
                "/small": (200, {}, b"ok")}) as srv:
        for path in ("/declared", "/chunked"):
            with pytest.raises(PayloadTooLarge) as info:
                _get(LOOPBACK_OK, f"{srv.url}{path}", sync=sync)
            assert info.value.status == 413 and "some_max_bytes" in info.value.message
        assert _get(LOOPBACK_OK, f"{srv.url}/small", sync=sync).content == b"ok"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://127.0.0.1/", "http:///nohost",
                                 "javascript:alert(1)"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(OutboundRefused):
        _get(LOOPBACK_OK, url, sync=True)


def test_sink_gets_the_body_and_errors_are_returned_without_body() -> None:
    with serve({"/ok": (200, {}, b"abc" * 100), "/missing": (404, {}, b"not here")}) as srv:
        parts: list[bytes] = []
        with OutboundSyncClient(LOOPBACK_OK, timeout=5, max_bytes=1000, size_setting="x") as client:
            got = client.get(f"{srv.url}/ok", sink=parts.append)
            assert got.size == 300 and b"".join(parts) == b"abc" * 100 and got.content == b""
            missing = client.get(f"{srv.url}/missing", params={"q": "1"})
            assert missing.status == 404 and missing.content == b""
        assert srv.hits[-1].path == "/missing?q=1"


def test_unreachable_and_slow_servers_are_outbound_errors() -> None:
    import socket

    with socket.socket() as silent:  # accepts connections and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(OutboundError) as info:
            _get(LOOPBACK_OK, f"http://127.0.0.1:{port}/", sync=True, timeout=0.3)
        assert "no answer" in info.value.message
        with pytest.raises(OutboundError):
            _get(LOOPBACK_OK, f"http://127.0.0.1:{port}/", sync=False, timeout=0.3)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(OutboundError) as info:
        _get(LOOPBACK_OK, f"http://127.0.0.1:{port}/", sync=True)
    assert "ConnectError" in info.value.message


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
def test_https_to_a_pinned_address_verifies_the_certificate_of_the_name(sync: bool, tmp_path: Any,
                                                                         monkeypatch: Any) -> None:
    """The connection goes to the checked address, and TLS still sends the host name (SNI) and verifies the
    certificate against it."""
    import ssl

    ca, cert, key = tls_files(tmp_path, "secure.test")
    monkeypatch.setenv("SSL_CERT_FILE", ca)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    seen: list[str | None] = []
    tls.sni_callback = lambda sock, name, ctx: seen.append(name)  # type: ignore[assignment,misc,func-returns-value]
    with serve({"/x": (200, {}, b"secret ok")}, tls=tls) as srv:
        resolver = ScriptedResolver({"secure.test": [["127.0.0.1"]], "wrong.test": [["127.0.0.1"]]})
        policy = LOOPBACK_OK.with_resolver(resolver)
        got = _get(policy, f"https://secure.test:{srv.port}/x", sync=sync)
        assert got.content == b"secret ok" and "secure.test" in seen
        with pytest.raises(OutboundError):  # the certificate is not for this name
            _get(policy, f"https://wrong.test:{srv.port}/x", sync=sync)
