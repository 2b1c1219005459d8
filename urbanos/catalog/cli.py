"""``urbanos catalog …``: reindex the search index and show quality scores.

Every component's commands are loaded for ``urbanos --help``, so the catalogue's writes (numpy, shapely) are
imported when a command runs, not here.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import click

from urbanos.governance import ADMIN
from urbanos.platform import Platform
from urbanos.plugins import load_components, settings_registry
from urbanos.settings import Settings, load
from urbanos.storage import Connection

if TYPE_CHECKING:  # types only (see the module's docstring)
    from urbanos.catalog.service import CatalogService


def _settings(ctx: click.Context) -> Settings:
    root = ctx.find_root().params
    overrides: dict[str, Any] = {}
    for pair in root.get("set_values") or ():
        name, _, value = str(pair).partition("=")
        overrides[name.strip().replace("-", "_")] = value
    return load(settings_registry(), toml_path=root.get("config"), overrides=overrides)


def _platform(ctx: click.Context) -> Platform:
    platform = Platform.build(_settings(ctx), load_components())
    platform.open()
    return platform


def _reindex_all(c: Connection) -> int:
    from urbanos.catalog import writes  # heavy (numpy, shapely): see the module's docstring

    ids = [int(r[0]) for r in c.fetchall("SELECT id FROM datasets")]
    for ds_id in ids:
        writes.reindex(c, ds_id)
    return len(ids)


@click.group(name="catalog")
def catalog() -> None:
    """The metadata catalogue: search index and metadata quality."""


@catalog.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild facets, full text and spatial index of every dataset."""
    platform = _platform(ctx)
    try:
        n = platform.db.write_sync(_reindex_all)
        click.echo(f"reindexed {n} datasets")
    finally:
        platform.close()


@catalog.command()
@click.argument("name")
@click.pass_context
def quality(ctx: click.Context, name: str) -> None:
    """Show the metadata quality (EU MQA, 405 points) and freshness of dataset NAME."""
    platform = _platform(ctx)
    try:
        svc: CatalogService = platform.services["catalog"]
        q = asyncio.run(svc.quality(ADMIN, name))
        f = asyncio.run(svc.freshness(name))
    finally:
        platform.close()
    click.echo(f"{name}: {q['points']}/405 ({q['band']}); freshness: {f['status']}")
    for it in q["indicators"]:
        click.echo(f"  {it['dimension']:<16} {it['label']:<42} {it['points']:>5}/{it['max']:<3} {it['explanation']}")


def commands() -> list[click.Command]:
    return [catalog]


__all__ = ["commands"]
