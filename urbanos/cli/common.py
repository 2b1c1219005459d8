"""Shared pieces of the CLI: settings from flags, one-line errors, the server runner."""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from urbanos.errors import ConfigError, UrbanosError
from urbanos.plugins import settings_registry
from urbanos.settings import Settings, load

if TYPE_CHECKING:
    from starlette.types import ASGIApp


def settings_from(ctx: click.Context, **flags: Any) -> Settings:
    """Effective settings: defaults < urbanos.toml < URBANOS_* < these CLI flags."""

    root = ctx.find_root().params
    registry = settings_registry()
    overrides = {k: v for k, v in flags.items() if v is not None}
    for pair in root.get("set_values") or ():
        name, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"--set {pair!r} is not NAME=VALUE. Fix: write it like --set city_name=Hamburg.")
        overrides[name.strip().replace("-", "_")] = value
    return load(registry, toml_path=root.get("config"), overrides=overrides)


def fail(message: str, code: int = 2) -> None:
    click.echo(f"urbanos: error: {message}", err=True)
    sys.exit(code)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn configuration and platform errors into one clear line and exit code 2."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            fail(exc.message)
        except UrbanosError as exc:
            fail(exc.message, 2 if exc.status < 500 else 1)
        return None

    return wrapper


def check_port(host: str, port: int, setting: str = "URBANOS_PORT / --port") -> None:
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"setting {setting}: port {port} on {host} is already in use. "
                f"Fix: stop the other server or choose another port (e.g. --port {port + 1})."
            ) from None
        raise ConfigError(f"setting {setting}: cannot listen on {host}:{port} ({exc.strerror}). Fix: check host and port.") from None
    finally:
        s.close()


def run_server(app: ASGIApp, settings: Settings) -> None:
    import uvicorn

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        proxy_headers=False,  # X-Forwarded-* are applied by the app, from the setting trusted_proxies only
        server_header=False,
        timeout_graceful_shutdown=5,
        ws="websockets-sansio",
    )
    uvicorn.Server(config).run()


__all__ = ["settings_from", "guarded", "fail", "check_port", "run_server"]
