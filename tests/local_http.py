"""Small local HTTP servers and scripted name resolution for the outbound-fetch tests.

Every server listens on a loopback address (127.0.0.1, or 127.0.0.2 for "another host"); scripted names
(``*.test``) resolve to loopback addresses only, so no test sends traffic anywhere else.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, str], bytes]
Route = Callable[["Hit"], Reply] | Reply


@dataclass
class Hit:
    path: str
    headers: dict[str, str]


@dataclass
class Server:
    host: str
    port: int
    hits: list[Hit] = field(default_factory=list)
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def header_values(self, name: str) -> list[str | None]:
        return [h.headers.get(name.lower()) for h in self.hits]


@contextmanager
def serve(routes: dict[str, Route], host: str = "127.0.0.1", tls: Any = None) -> Iterator[Server]:
    """Serve ``routes`` (path without query → reply or function of the hit) on ``host``; unknown paths get 404.
    Every request is recorded in ``server.hits``. ``tls``: an ``ssl.SSLContext`` to serve https with."""
    record: list[Hit] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hit = Hit(self.path, {k.lower(): v for k, v in self.headers.items()})
            record.append(hit)
            route = routes.get(self.path.split("?", 1)[0])
            status, headers, body = (route(hit) if callable(route) else route) if route is not None else (404, {}, b"")
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer((host, 0), Handler)
    httpd.daemon_threads = True
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server = Server(host, int(httpd.server_address[1]), record, "https" if tls is not None else "http")
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


class ScriptedResolver:
    """Names → a list of answers, one per lookup (the last one repeats); records every lookup."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        script = self.answers.get(host)
        if script is None:
            raise socket.gaierror(socket.EAI_NONAME, "unknown name")
        return list(script[0] if len(script) == 1 else script.pop(0))


def patch_getaddrinfo(monkeypatch: Any, resolver: ScriptedResolver) -> None:
    """Make ``socket.getaddrinfo`` answer the scripted names (every other name and literal as before): the same
    stub for code that resolves by itself."""
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name in resolver.answers:
            out = []
            for address in resolver(name, int(port or 0)):
                out.extend(real(address, port, *args, **kwargs))
            return out
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def tls_files(folder: Any, *names: str) -> tuple[str, str, str]:
    """A throw-away certificate authority and a server certificate for ``names``: (ca.pem, cert.pem, key.pem)."""
    import datetime
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = Path(folder)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "urbanos test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(paths[0]), str(paths[1]), str(paths[2])
