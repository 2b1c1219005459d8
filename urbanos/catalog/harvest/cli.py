"""``urbanos harvest add|run|list|log``.

Every component's commands are loaded for ``urbanos --help``, so the harvester (rdflib, for DCAT sources) is
imported when ``harvest run`` runs, not here.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from urbanos.catalog.harvest import store
from urbanos.commands import with_platform

_db = click.option("--db", "db_url", default=None, help="Database URL (default: SQLite in the data directory).")
_dir = click.option("--data-dir", default=None, help="Data directory.")


@click.group("harvest")
def harvest() -> None:
    """Harvest datasets from other catalogues (CKAN Action API or DCAT)."""


@harvest.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--type", "kind", type=click.Choice(["ckan", "dcat"]), required=True, help="Kind of source.")
@click.option("--token-env", default=None, metavar="VARNAME",
              help="Name of the environment variable that holds the source's API token when the harvest runs, "
                   "to harvest registered and internal datasets the token may read. The token is not stored.")
@click.option("--org", default=None, metavar="ORG",
              help="Local organisation (it must exist) that owns every dataset of this source, whatever organisation "
                   "the remote record names; the remote publisher is kept as the dataset's publisher. Without it, "
                   "the remote source decides the organisation (created here when missing).")
@_db
@_dir
@click.pass_context
def add(ctx: click.Context, name: str, url: str, kind: str, token_env: str | None, org: str | None, db_url: str | None,
        data_dir: str | None) -> None:
    """Register source NAME at URL (a CKAN site root, or a DCAT catalogue document).

    \b
    Examples:
      urbanos harvest add hamburg --type ckan https://transparenz.example.org
      urbanos harvest add berlin --type dcat https://daten.example.org/catalog.ttl
      urbanos harvest add partner --type ckan https://partner.example.org --token-env PARTNER_TOKEN
      urbanos harvest add region --type ckan https://region.example.org --org regional-partners
    """
    src = with_platform(ctx, db_url, data_dir, lambda p: store.add_source(p.db, name, kind, url, token_env, org))
    auth = f" (token from ${token_env})" if token_env else ""
    owner = f", datasets owned by {src['org']}" if src.get("org") else ""
    click.echo(f"added harvest source {src['name']} ({src['type']}) {src['url']}{auth}{owner}")


@harvest.command("run")
@click.argument("name", required=False)
@_db
@_dir
@click.pass_context
def run_cmd(ctx: click.Context, name: str | None, db_url: str | None, data_dir: str | None) -> None:
    """Harvest source NAME now, or every source. Exit code 1 when a source failed."""
    from urbanos.catalog.harvest import runner  # heavy (rdflib): see the module's docstring

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  disable=not sys.stderr.isatty(), console=Console(stderr=True), transient=False) as bar:
        tasks: dict[str, Any] = {}

        def progress(source: str, done: int, total: int) -> None:
            if source not in tasks:
                tasks[source] = bar.add_task(f"harvest {source}", total=total)
            bar.update(tasks[source], completed=done, total=total)

        reports = with_platform(ctx, db_url, data_dir, lambda p: runner.run(p, name, progress))
    failed = False
    for r in reports:
        click.echo(f"{r['source']}: {r['status']} created={r['created']} updated={r['updated']} "
                   f"deleted={r['deleted']} unchanged={r['unchanged']} failed={r['failed']}")
        if r["message"]:
            click.echo(f"  {r['message']}", err=True)
        failed = failed or r["status"] == "error"
    if failed:
        sys.exit(1)


@harvest.command("list")
@_db
@_dir
@click.pass_context
def list_cmd(ctx: click.Context, db_url: str | None, data_dir: str | None) -> None:
    """List harvest sources."""
    for s in with_platform(ctx, db_url, data_dir, lambda p: store.sources(p.db)):
        auth = f"\ttoken=${s['token_env']}" if s.get("token_env") else ""
        auth += f"\torg={s['org']}" if s.get("org") else ""
        click.echo(f"{s['name']}\t{s['type']}\t{s['url']}{auth}\tlast={s['last_run_at'] or '-'} "
                   f"status={s['last_status'] or '-'} next={s['next_run_at'] or '-'}")


@harvest.command("log")
@click.argument("name", required=False)
@click.option("--limit", default=20, type=click.IntRange(1, 1000))
@_db
@_dir
@click.pass_context
def log_cmd(ctx: click.Context, name: str | None, limit: int, db_url: str | None, data_dir: str | None) -> None:
    """Show the harvest log (newest first)."""
    for r in with_platform(ctx, db_url, data_dir, lambda p: store.log(p.db, name, limit)):
        click.echo(f"{r['started_at']}\t{r['source']}\t{r['status']}\tcreated={r['created']} updated={r['updated']} "
                   f"deleted={r['deleted']} unchanged={r['unchanged']} failed={r['failed']}\t{r['message']}")


__all__ = ["harvest"]
