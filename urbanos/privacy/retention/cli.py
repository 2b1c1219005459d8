"""``urbanos purge [--dry-run]``: apply every retention rule now, with a progress bar; a dry run counts what would be
deleted and changes nothing."""

from __future__ import annotations

import click

from urbanos.commands import settings_of
from urbanos.platform import Platform
from urbanos.plugins import load_components


@click.command(name="purge")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option("--db", "db_url", default=None, help="Database URL (default: SQLite in the data dir).")
@click.option("--data-dir", default=None, help="Data directory.")
@click.pass_context
def purge(ctx: click.Context, dry_run: bool, db_url: str | None, data_dir: str | None) -> None:
    """Delete the data older than its retention period (per dataset, Datastream or collection), and the personal data
    capabilities keep for a period of their own (Open311 contact details), leaving a deletion record and an audit
    entry per rule."""
    settings = settings_of(ctx, db_url, data_dir)
    platform = Platform.build(settings, load_components())
    platform.open()
    try:
        retention = platform.services["privacy_retention"]
        rules = platform.db.read_sync(lambda c: int(c.fetchval("SELECT COUNT(*) FROM privacy_retention") or 0))
        with click.progressbar(length=rules, label="Purging" if not dry_run else "Counting", file=None) as bar:
            results = retention.purge_sync(dry_run=dry_run, actor="cli:purge", progress=lambda _rule: bar.update(1))
    finally:
        audit = platform.services.get("audit")
        if audit is not None:
            audit.flush_sync()  # the audit entries of the purge, appended before the database closes
        platform.close()
    total = 0
    for r in results:
        total += r["rows"]
        if r["rows"]:
            click.echo(f"{r['dataset']}: {r['rule']}: {r['rows']} rows older than {r['before']} ({r['what']})")
    verb = "would be deleted" if dry_run else "deleted"
    kinds = sum(1 for r in results if r.get("personal"))  # the capabilities' own periods (Open311 contact details)
    also = f" and {kinds} periods of personal data" if kinds else ""
    click.echo(f"{total} rows {verb} under {len(results) - kinds} rules{also}.")


__all__ = ["purge"]
