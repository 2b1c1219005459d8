"""OIDC/JWT bearer tokens against a JWKS served locally from keys minted by the test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from urbanos.errors import Unauthorized
from urbanos.web.app import create_app

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_url() -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/certs"
    server.shutdown()
    server.server_close()


def mint(key: Any = KEY, **claims: Any) -> str:
    payload = {"sub": "user-1", "iss": "https://id.city.example/realms/city", "aud": "urbanos", "exp": int(time.time()) + 300}
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def oidc_platform(make_settings: Any, jwks_url: str) -> Any:
    app = create_app(
        make_settings(
            oidc_jwks_url=jwks_url,
            oidc_issuer="https://id.city.example/realms/city",
            oidc_audience="urbanos",
            oidc_roles_claim="realm_access.roles",
        )
    )
    yield app.state.platform
    app.state.platform.close()


def test_valid_token_maps_roles(oidc_platform: Any) -> None:
    token = mint(realm_access={"roles": ["publisher:mobility", "offline_access"]}, azp="traffic-app")
    ident = oidc_platform.gate.authenticate_sync(token)
    assert ident.kind == "oidc" and ident.subject == "oidc:user-1"
    assert ident.has_role("publisher", "mobility") and not ident.has_role("publisher", "env")
    assert ident.application == "traffic-app"


@pytest.mark.parametrize(
    "token",
    [
        mint(exp=int(time.time()) - 600),
        mint(aud="someone-else"),
        mint(iss="https://evil.example"),
        mint(key=OTHER),
    ],
    ids=["expired", "audience", "issuer", "signature"],
)
def test_bad_tokens_are_refused(oidc_platform: Any, token: str) -> None:
    with pytest.raises(Unauthorized):
        oidc_platform.gate.authenticate_sync(token)


def test_over_http_with_www_authenticate(make_settings: Any, jwks_url: str) -> None:
    from starlette.testclient import TestClient

    app = create_app(make_settings(oidc_jwks_url=jwks_url, oidc_issuer="https://id.city.example/realms/city",
                                   oidc_audience="urbanos", oidc_roles_claim="roles"))
    with TestClient(app) as client:
        ok = client.get("/admin/whoami", headers={"Authorization": f"Bearer {mint(roles=['admin'])}"})
        assert ok.status_code == 200 and "admin" in ok.json()["roles"]
        bad = client.get("/admin/whoami", headers={"Authorization": f"Bearer {mint(exp=1)}"})
        assert bad.status_code == 401
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.headers["www-authenticate"].startswith("Bearer")
