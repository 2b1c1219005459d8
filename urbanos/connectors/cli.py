"""``urbanos connector add|list|show|run|remove`` and ``urbanos worker``.

The commands open the database of the settings (like ``urbanos import``) and act as the platform admin, or, with
``--token``, as that token's identity (which must be allowed to publish to the connector's dataset; the connector
then writes as that token, checked again at every run)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from urbanos.commands import with_platform
from urbanos.connectors.mapping import load_text
from urbanos.connectors.types import registry
from urbanos.core.jsontext import dumps
from urbanos.governance import ADMIN, Identity
from urbanos.platform import Platform


async def _identity(platform: Platform, token: str | None) -> Identity:
    return ADMIN if not token else await platform.gate.authenticate(token)


_db = click.option("--db", "db_url", default=None, help="Database URL (default: SQLite in the data directory).")
_dir = click.option("--data-dir", default=None, help="Data directory.")
_token = click.option("--token", default=None, metavar="TOKEN",
                      help="Act as this API token (it must be allowed to publish to the dataset); default: the platform "
                           "admin, as every command that opens the database.")


@click.group("connector")
def connector() -> None:
    """Connectors: scheduled pulls (csv, json, gbfs, gtfs, gtfs-rt, the sta and ogcapi mirrors) and pushes (webhook)
    of city data into a dataset."""


@connector.command("add")
@click.argument("name")
@click.argument("url", required=False, default="")
@click.option("--type", "kind", required=True, type=click.Choice(sorted(registry())))
@click.option("--dataset", required=True, help="The catalogue dataset the connector writes into.")
@click.option("--every", default=None, help="Run every interval: 30s, 5m, 2h, 1d.")
@click.option("--cron", default=None, help='Run on a cron schedule in UTC, e.g. "*/5 * * * *".')
@click.option("--mapping", "mapping_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="YAML or JSON file: how rows become Observations or features (csv, json, webhook).")
@_token
@_db
@_dir
@click.pass_context
def add(ctx: click.Context, name: str, url: str, kind: str, dataset: str, every: str | None, cron: str | None,
        mapping_file: str | None, token: str | None, db_url: str | None, data_dir: str | None) -> None:
    """Configure connector NAME of type --type reading URL (a webhook has none).

    \b
    Examples:
      urbanos connector add bikes --type gbfs https://example.org/gbfs.json --dataset bike-sharing --every 1m
      urbanos connector add air --type csv https://example.org/air.csv --dataset air --mapping air.yaml --cron "*/10 * * * *"
      urbanos connector add pushes --type webhook --dataset air --mapping air.yaml
      urbanos connector add sensors --type sta https://example.org/FROST-Server/v1.1 --dataset air --every 5m
      urbanos connector add trees --type ogcapi https://example.org/ogcapi/collections/trees --dataset trees --every 1d
    """
    mapping = load_text(Path(mapping_file).read_text(encoding="utf-8")) if mapping_file else None
    data = {"name": name, "type": kind, "url": url, "dataset": dataset, "every": every, "cron": cron, "mapping": mapping}

    async def go(p: Platform) -> Any:
        return await p.services["connectors"].add(await _identity(p, token), data)

    out = with_platform(ctx, db_url, data_dir, go)
    click.echo(f"added connector {out['name']} ({out['type']}) into dataset {out['dataset']}")
    if out.get("secret"):
        click.echo(f"webhook: POST {out['ingest']} signed with X-Urbanos-Signature: sha256=<hex HMAC-SHA256 of the body>")
        click.echo(f"secret (shown once): {out['secret']}")


def _line(c: dict[str, Any]) -> str:
    sched = c["schedule"]["cron"] or (f"every {c['schedule']['every_seconds']}s" if c["schedule"]["every_seconds"] else "-")
    health = "healthy" if c["healthy"] else f"UNHEALTHY ({c['consecutive_failures']} failed runs)"
    return (f"{c['name']}\t{c['type']}\t{c['dataset']}\t{sched}\t{health}\tlast={c['last_run_at'] or '-'} "
            f"status={c['last_status'] or '-'} next={c['next_run_at'] or '-'}")


@connector.command("list")
@_token
@_db
@_dir
@click.pass_context
def list_cmd(ctx: click.Context, token: str | None, db_url: str | None, data_dir: str | None) -> None:
    """List connectors (name, type, dataset, schedule, health, last and next run)."""
    async def go(p: Platform) -> Any:
        return await p.services["connectors"].list(await _identity(p, token))

    for c in with_platform(ctx, db_url, data_dir, go):
        click.echo(_line(c))


@connector.command("show")
@click.argument("name")
@click.option("--runs", default=10, type=click.IntRange(1, 1000), help="How many of the last runs to show.")
@_token
@_db
@_dir
@click.pass_context
def show(ctx: click.Context, name: str, runs: int, token: str | None, db_url: str | None, data_dir: str | None) -> None:
    """Show connector NAME and its last runs."""
    async def go(p: Platform) -> Any:
        return await p.services["connectors"].show(await _identity(p, token), name, runs)

    c = with_platform(ctx, db_url, data_dir, go)
    click.echo(_line(c))
    click.echo(f"url: {c['url'] or '-'}\nmapping: {dumps(c['mapping'])}")
    for r in c["runs"]:
        click.echo(f"{r['started_at']}\t{r['status']}\t{r['trigger']}\tcreated={r['created']} updated={r['updated']} "
                   f"unchanged={r['unchanged']} failed={r['failed']} bytes={r['bytes_fetched']}")
        for e in r["errors"]:
            click.echo(f"  {e}")


@connector.command("run")
@click.argument("name")
@_token
@_db
@_dir
@click.pass_context
def run_cmd(ctx: click.Context, name: str, token: str | None, db_url: str | None, data_dir: str | None) -> None:
    """Run connector NAME now. Exit code 1 when the run failed."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  disable=not sys.stderr.isatty(), console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(f"connector {name}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        async def go(p: Platform) -> Any:
            return await p.services["connectors"].run(await _identity(p, token), name, progress)

        r = with_platform(ctx, db_url, data_dir, go)
    click.echo(f"{r['connector']}: {r['status']} created={r.get('created', 0)} updated={r.get('updated', 0)} "
               f"unchanged={r.get('unchanged', 0)} failed={r.get('failed', 0)} bytes={r.get('bytes_fetched', 0)}")
    for e in r.get("errors") or [r.get("message")] if r["status"] != "ok" else []:
        if e:
            click.echo(f"  {e}", err=True)
    if r["status"] == "failed":
        sys.exit(1)


@connector.command("remove")
@click.argument("name")
@_token
@_db
@_dir
@click.pass_context
def remove(ctx: click.Context, name: str, token: str | None, db_url: str | None, data_dir: str | None) -> None:
    """Remove connector NAME with its run log (what it wrote stays)."""
    async def go(p: Platform) -> Any:
        return await p.services["connectors"].remove(await _identity(p, token), name)

    with_platform(ctx, db_url, data_dir, go)
    click.echo(f"removed connector {name}")


@click.command("worker")
@_db
@_dir
@click.pass_context
def worker(ctx: click.Context, db_url: str | None, data_dir: str | None) -> None:
    """Run due connectors until stopped (Ctrl-C), without serving HTTP. Run any number of workers beside the
    servers: a lease in the database makes sure one process runs a given connector at a time (set
    connectors_scheduler=false on the servers to leave all runs to workers)."""
    async def go(p: Platform) -> None:
        service = p.services["connectors"]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        service.scheduler.start()
        click.echo(f"urbanos worker {service.runner.id}: running due connectors (Ctrl-C stops)", err=True)
        try:
            await stop.wait()
        finally:
            await service.scheduler.stop()

    with_platform(ctx, db_url, data_dir, go)


__all__ = ["connector", "worker", "with_platform"]
