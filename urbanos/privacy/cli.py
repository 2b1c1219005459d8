"""``urbanos audit verify``: prove the audit trail's hash chain (exit code 0 when intact, 1 when broken)."""

from __future__ import annotations

import sys

import click

from urbanos.commands import settings_of
from urbanos.platform import Platform
from urbanos.plugins import load_components
from urbanos.privacy.audit.chain import verify as verify_chain
from urbanos.privacy.schema import GENESIS


@click.group(name="audit")
def audit() -> None:
    """The audit trail: verify its hash chain."""


@audit.command()
@click.option("--db", "db_url", default=None, help="Database URL (default: SQLite in the data dir).")
@click.option("--data-dir", default=None, help="Data directory.")
@click.pass_context
def verify(ctx: click.Context, db_url: str | None, data_dir: str | None) -> None:
    """Prove the chain: every entry's hash, every link to the entry before, no gap and the head. Names the first
    broken entry; exit code 1 when the chain is broken."""
    settings = settings_of(ctx, db_url, data_dir)
    platform = Platform.build(settings, load_components())
    platform.open()
    try:
        verdict = platform.db.read_sync(lambda c: verify_chain(c, GENESIS))
    finally:
        platform.close()
    click.echo(verdict.describe())
    sys.exit(0 if verdict.ok else 1)


def commands() -> list[click.Command]:
    return [audit]


__all__ = ["commands", "audit"]
