"""OIDC accepts only tokens meant for this platform: issuer and audience are required with a JWKS URL (the
server refuses to start without them), algorithms are pinned to the key's type, ``exp`` is required, and the
JWKS is fetched at most once per ``oidc_jwks_refresh_seconds`` whatever key ids callers invent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.conftest import free_port
from tests.local_http import Server, serve
from urbanos.errors import ConfigError, Unauthorized
from urbanos.web.app import create_app

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ISSUER = "https://id.city.example/realms/city"


def _jwks() -> bytes:
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    return json.dumps({"keys": [jwk]}).encode()


@pytest.fixture
def jwks() -> Iterator[Server]:
    with serve({"/certs": (200, {"Content-Type": "application/json"}, _jwks())}) as server:
        yield server


@pytest.fixture
def broken_jwks() -> Iterator[Server]:
    with serve({"/certs": (503, {}, b"down")}) as server:
        yield server


def mint(kid: str | None = "k1", drop: tuple[str, ...] = (), **claims: Any) -> str:
    payload = {"sub": "user-1", "iss": ISSUER, "aud": "urbanos", "exp": int(time.time()) + 300, "roles": ["admin"]}
    payload.update(claims)
    for name in drop:
        payload.pop(name)
    return jwt.encode(payload, KEY, algorithm="RS256", headers={"kid": kid} if kid else {})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(alg: str, secret: bytes | None) -> str:
    header = _b64(json.dumps({"alg": alg, "kid": "k1", "typ": "JWT"}).encode())
    body = _b64(json.dumps({"sub": "mallory", "iss": ISSUER, "aud": "urbanos", "exp": int(time.time()) + 300,
                            "roles": ["admin"]}).encode())
    signing = f"{header}.{body}".encode()
    sig = _b64(hmac.new(secret, signing, hashlib.sha256).digest()) if secret is not None else ""
    return f"{header}.{body}.{sig}"


def _gate(make_settings: Any, url: str, **overrides: Any) -> Any:
    app = create_app(make_settings(oidc_jwks_url=url, oidc_issuer=ISSUER, oidc_audience="urbanos", **overrides))
    return app.state.platform


@pytest.mark.parametrize("given", [{}, {"oidc_issuer": ISSUER}, {"oidc_audience": "urbanos"}],
                         ids=["neither", "issuer only", "audience only"])
def test_a_jwks_url_needs_issuer_and_audience(make_settings: Any, jwks: Server, given: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        create_app(make_settings(oidc_jwks_url=f"{jwks.url}/certs", **given))
    message = info.value.message
    for name, env in (("oidc_issuer", "URBANOS_OIDC_ISSUER"), ("oidc_audience", "URBANOS_OIDC_AUDIENCE")):
        assert (env in message) == (name not in given), message
    assert "Fix:" in message


def test_serve_refuses_to_start_with_a_clear_message(tmp_path: Path, db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    env.update({"URBANOS_OIDC_JWKS_URL": "http://127.0.0.1:9/certs", "URBANOS_OIDC_AUDIENCE": "urbanos",
                "URBANOS_LOG_LEVEL": "warning"})
    cmd = [sys.executable, "-m", "urbanos.cli.main", "serve", "--port", str(free_port()), "--data-dir",
           str(tmp_path / "data"), "--mqtt-port", "0"]
    if db_url:
        cmd += ["--db", db_url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("urbanos serve started without oidc_issuer")
    assert proc.returncode == 2, err
    assert "urbanos: error:" in err and "URBANOS_OIDC_ISSUER" in err and "Traceback" not in err


def test_algorithm_tricks_and_missing_claims_are_refused(make_settings: Any, jwks: Server) -> None:
    platform = _gate(make_settings, f"{jwks.url}/certs")
    try:
        gate = platform.gate
        assert gate.authenticate_sync(mint()).is_admin
        pem = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        der = KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        tokens = {
            "none": _forged("none", None),
            "HS256 with the public key": _forged("HS256", pem),
            "HS256 with the DER key": _forged("HS256", der),
            "no exp": mint(drop=("exp",)),
            "no iss": mint(drop=("iss",)),
            "no aud": mint(drop=("aud",)),
            "no sub": mint(drop=("sub",)),
            "other audience": mint(aud="another-app"),
            "other issuer": mint(iss="https://id.city.example/realms/other"),
            "expired beyond the leeway": mint(exp=int(time.time()) - 120),
            "not yet valid": mint(nbf=int(time.time()) + 600),
            "unknown key": mint(kid="k2"),
        }
        for why, token in tokens.items():
            with pytest.raises(Unauthorized):
                gate.authenticate_sync(token)
                pytest.fail(why)
    finally:
        platform.close()


def test_random_key_ids_do_not_refetch_the_jwks(make_settings: Any, jwks: Server) -> None:
    platform = _gate(make_settings, f"{jwks.url}/certs")  # oidc_jwks_refresh_seconds: 60 by default
    try:
        for _ in range(20):
            with pytest.raises(Unauthorized):
                platform.gate.authenticate_sync(mint(kid=uuid.uuid4().hex))
        assert platform.gate.authenticate_sync(mint()).is_admin
        assert len(jwks.hits) == 1
    finally:
        platform.close()


def test_a_jwks_outage_is_not_fetched_once_per_token(make_settings: Any, broken_jwks: Server) -> None:
    platform = _gate(make_settings, f"{broken_jwks.url}/certs")
    try:
        for _ in range(20):
            with pytest.raises(Unauthorized):
                platform.gate.authenticate_sync(mint(kid=uuid.uuid4().hex))
        assert len(broken_jwks.hits) == 1
    finally:
        platform.close()
