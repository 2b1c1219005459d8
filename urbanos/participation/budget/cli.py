"""``urbanos budget tally BUDGET``: count a budget vote again from its stored ballots, print each project's support
and cost, and publish the result when the vote has closed (saying whether it equals the one published before)."""

from __future__ import annotations

import asyncio
import sys

import click
import orjson
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from urbanos.commands import fail, settings_of
from urbanos.errors import UrbanosError
from urbanos.platform import Platform
from urbanos.plugins import load_components


@click.group("budget")
def budget() -> None:
    """Participatory budgets."""


@budget.command("tally")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--db", "db_url", default=None, help="Database URL (default: SQLite in the data directory).")
@click.option("--data-dir", default=None, help="Data directory.")
@click.pass_context
def tally(ctx: click.Context, ref: str, as_json: bool, db_url: str | None, data_dir: str | None) -> None:
    """Count the budget REF (id or name) from its stored ballots."""
    try:
        platform = Platform.build(settings_of(ctx, db_url, data_dir), load_components())
        platform.open()
    except UrbanosError as exc:
        fail(exc.message)
    try:
        service = platform.services["budgets"]
        found = asyncio.run(service.get(ref))
        before = found.get("results")
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} increments"),
                      disable=not sys.stderr.isatty(), console=Console(stderr=True)) as bar:
            task = bar.add_task(f"tally {found['name']}", total=None)
            out = service.tally_sync(found, lambda n: bar.update(task, completed=n),
                                     publish=found["phase"] == "results")
    except UrbanosError as exc:
        fail(exc.message)
    finally:
        platform.close()
    if as_json:
        click.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(f"{found['title']}: {out['ballots']} ballots, rule {out['rule']}, "
               f"{out['spent']:,} of {out['amount']:,} {found['currency']} spent")
    for p in out["projects"]:
        click.echo(f"  {'funded ' if p['funded'] else '       '} {p['votes']:>7} votes  {p['cost']:>12,}  {p['title']}")
    if before:
        same = orjson.loads(before)["funded"] == out["funded"]
        click.echo("same result as published" if same else "DIFFERENT from the published result")


__all__ = ["budget", "tally"]
