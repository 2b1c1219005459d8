"""``urbanos privacy shred-key PURPOSE PERIOD``: crypto-shredding of a pseudonymisation key, and ``urbanos privacy
rules DATASET``: the rules in force (and ``--history``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click
import orjson

from urbanos.commands import settings_of
from urbanos.errors import UrbanosError
from urbanos.governance import ADMIN
from urbanos.platform import Platform
from urbanos.plugins import load_components
from urbanos.privacy.rules.keys import KeyStore


@click.group(name="privacy")
def privacy() -> None:
    """Privacy rules and their pseudonymisation keys."""


@privacy.command(name="shred-key")
@click.argument("purpose")
@click.argument("period")
@click.option("--data-dir", default=None, help="Data directory (its keys/ folder holds the key files).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def shred_key(ctx: click.Context, purpose: str, period: str, data_dir: str | None, yes: bool) -> None:
    """Destroy the key of PURPOSE for PERIOD (2026, 2026-12 or 2026-12-06): the pseudonyms made with it can never
    be linked again. Running servers stop using it within a second; a key made later is a new one. A key given by
    an environment variable is destroyed by removing it from the environment of every process."""
    settings = settings_of(ctx, None, data_dir)
    if not yes:
        click.confirm(f"Destroy the pseudonymisation key of {purpose!r} for {period}? This cannot be undone.", abort=True)
    try:
        path = KeyStore(Path(settings.data_path) / "keys").shred(purpose, period)
    except UrbanosError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Destroyed {path}.")


@privacy.command(name="rules")
@click.argument("dataset")
@click.option("--history", is_flag=True, help="Every version, newest first.")
@click.option("--db", "db_url", default=None, help="Database URL (default: SQLite in the data dir).")
@click.option("--data-dir", default=None, help="Data directory.")
@click.pass_context
def show_rules(ctx: click.Context, dataset: str, history: bool, db_url: str | None, data_dir: str | None) -> None:
    """The privacy rules of DATASET (name or UUID) as JSON, with their plain-language description."""
    settings = settings_of(ctx, db_url, data_dir)
    platform = Platform.build(settings, load_components())
    platform.open()
    try:
        service = platform.services["privacy_rules"]
        out: Any = asyncio.run(service.history(ADMIN, dataset) if history else service.get(ADMIN, dataset))
    except UrbanosError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        platform.close()
    click.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())


def commands() -> list[click.Command]:
    return [privacy]


__all__ = ["commands", "privacy"]
