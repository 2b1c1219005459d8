"""Import by URL goes through the outbound-fetch policy: the address that was checked is the one connected to,
shared (CGNAT) addresses are refused, every redirect hop is checked, and the size limit is a 413 that names
its setting.

Names resolve through a stub of ``socket.getaddrinfo`` that answers loopback addresses only: 127.0.0.1 is the
test's own server, 127.0.0.2 a host that must never be reached."""

from __future__ import annotations

from typing import Any

import pytest

from tests.local_http import ScriptedResolver, patch_getaddrinfo, serve
from urbanos.errors import PayloadTooLarge, UrbanosError, ValidationFailed
from urbanos.features.importers.fetch import fetch_url

CSV = b"id,name\n1,a\n2,b\n"


def test_a_name_checked_as_shared_address_is_not_fetched_from_loopback_afterwards(platform: Any,
                                                                                   monkeypatch: Any) -> None:
    """The name answers a CGNAT address (100.64.0.0/10) when checked, then 127.0.0.1: refused at the check,
    and nothing is fetched from the loopback server."""
    with serve({"/x.csv": (200, {}, CSV)}) as internal:
        patch_getaddrinfo(monkeypatch, ScriptedResolver({"cgnat.test": [["100.64.0.1"], ["127.0.0.1"]]}))
        with pytest.raises(ValidationFailed) as info:
            fetch_url(platform, f"http://cgnat.test:{internal.port}/x.csv", "r1", max_bytes=10_000,
                      allow_private=False)
        assert "not a public address" in info.value.message
        assert internal.hits == []


def test_the_connection_goes_to_the_address_that_was_checked(make_settings: Any, monkeypatch: Any) -> None:
    """The name answers 127.0.0.1 (allowed with outbound_allow) when checked, 127.0.0.2 afterwards."""
    from urbanos.web.app import create_app

    app = create_app(make_settings(outbound_allow="127.0.0.1"))
    try:
        with serve({"/x.csv": (200, {}, CSV)}) as good, \
                serve({"/x.csv": (200, {}, b"id\n666\n")}, host="127.0.0.2") as bad:
            resolver = ScriptedResolver({"rebind.test": [["127.0.0.1"], ["127.0.0.2"]]})
            patch_getaddrinfo(monkeypatch, resolver)
            path = fetch_url(app.state.platform, f"http://rebind.test:{good.port}/x.csv", "r2", max_bytes=10_000,
                             allow_private=False)
            with open(path, "rb") as fh:
                assert fh.read() == CSV
            assert resolver.calls == ["rebind.test"] and bad.hits == [] and len(good.hits) == 1
            with serve({"/x.csv": (302, {"Location": f"http://127.0.0.2:{bad.port}/x.csv"}, b"")}) as hop:
                with pytest.raises(ValidationFailed) as info:
                    fetch_url(app.state.platform, f"{hop.url}/x.csv", "r3", max_bytes=10_000, allow_private=False)
                assert "not a public address" in info.value.message
            assert bad.hits == []
    finally:
        app.state.platform.close()


def test_metadata_and_mapped_addresses_are_refused(platform: Any, monkeypatch: Any) -> None:
    patch_getaddrinfo(monkeypatch, ScriptedResolver({"meta.test": [["169.254.169.254"]],
                                                     "mapped.test": [["::ffff:127.0.0.1"]]}))
    for url in ("http://meta.test/latest/meta-data/", "http://mapped.test/x.csv", "http://[::ffff:127.0.0.1]/x.csv",
                "http://0x7f000001/x.csv", "http://2130706433/x.csv", "http://100.100.100.200/x.csv"):
        with pytest.raises(ValidationFailed) as info:
            fetch_url(platform, url, "r4", max_bytes=1000, allow_private=False)
        assert info.value.status == 400, url


def test_the_size_limit_is_a_413_naming_the_setting(make_settings: Any) -> None:
    from urbanos.web.app import create_app

    app = create_app(make_settings(outbound_allow="127.0.0.1"))
    try:
        with serve({"/big.csv": (200, {}, b"id\n" + b"1\n" * 5000)}) as srv:
            with pytest.raises(PayloadTooLarge) as info:
                fetch_url(app.state.platform, f"{srv.url}/big.csv", "r5", max_bytes=1000, allow_private=False)
        assert info.value.status == 413 and "catalog_upload_max_bytes" in info.value.message
        assert isinstance(info.value, UrbanosError)
    finally:
        app.state.platform.close()
