"""What the capabilities' command groups share: the settings of the command line, one-line errors with an exit code,
and a platform opened for one command.

It sits beside ``platform.py`` (like ``routing.py``) so that a capability's ``cli.py`` can use it: the import
contracts keep capabilities from importing ``urbanos.cli``, and ``urbanos.core`` may not import the platform."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from urbanos.errors import ConfigError, UrbanosError
from urbanos.platform import Platform
from urbanos.plugins import load_components, settings_registry
from urbanos.settings import Settings, load


def settings_of(ctx: click.Context, db: str | None, data_dir: str | None) -> Settings:
    """Effective settings: defaults < urbanos.toml (``--config``) < URBANOS_* < ``--set`` < ``--db``/``--data-dir``."""
    root = ctx.find_root().params
    overrides: dict[str, Any] = {k: v for k, v in {"db": db, "data_dir": data_dir}.items() if v is not None}
    for pair in root.get("set_values") or ():
        name, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"--set {pair!r} is not NAME=VALUE. Fix: write it like --set city_name=Hamburg.")
        overrides[name.strip().replace("-", "_")] = value
    return load(settings_registry(), toml_path=root.get("config"), overrides=overrides)


def fail(message: str, code: int = 2) -> None:
    """Print ``urbanos: error: MESSAGE`` on stderr and exit with ``code``."""
    click.echo(f"urbanos: error: {message}", err=True)
    sys.exit(code)


def problem_text(exc: UrbanosError) -> str:
    """The error's message, then one indented line per field of its detail."""
    return exc.message + "".join(f"\n  {k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                                 for k, v in exc.detail.items())


def with_platform(ctx: click.Context, db: str | None, data_dir: str | None,
                  fn: Callable[[Platform], Awaitable[Any]]) -> Any:
    """Open the platform of the settings, run ``fn`` in an event loop with the bus started, close. A platform that
    cannot open exits 2 with its message; an error of ``fn`` exits 2 (a 4xx kind of error) or 1 (a 5xx kind)."""
    try:
        platform = Platform.build(settings_of(ctx, db, data_dir), load_components())
        platform.open()
    except UrbanosError as exc:
        fail(exc.message)
    try:
        async def main() -> Any:
            await platform.bus.start()
            try:
                return await fn(platform)
            finally:
                await platform.bus.stop()

        return asyncio.run(main())
    except UrbanosError as exc:
        fail(problem_text(exc), 2 if exc.status < 500 else 1)
    finally:
        platform.close()


__all__ = ["settings_of", "fail", "problem_text", "with_platform"]
