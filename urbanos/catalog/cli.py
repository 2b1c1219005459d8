"""``urbanos catalog …``: reindex the search index and show quality scores."""

from __future__ import annotations

from typing import Any

import click


def commands() -> list[click.Command]:
    def settings_from(ctx: click.Context) -> Any:
        from urbanos.plugins import settings_registry
        from urbanos.settings import load

        root = ctx.find_root().params
        overrides: dict[str, Any] = {}
        for pair in root.get("set_values") or ():
            name, _, value = str(pair).partition("=")
            overrides[name.strip().replace("-", "_")] = value
        return load(settings_registry(), toml_path=root.get("config"), overrides=overrides)

    @click.group(name="catalog")
    def catalog() -> None:
        """The metadata catalogue: search index and metadata quality."""

    def _platform(ctx: click.Context) -> Any:
        from urbanos.platform import Platform
        from urbanos.plugins import load_components

        platform = Platform.build(settings_from(ctx), load_components())
        platform.open()
        return platform

    @catalog.command()
    @click.pass_context
    def reindex(ctx: click.Context) -> None:
        """Rebuild facets, full text and spatial index of every dataset."""
        from urbanos.catalog import writes

        platform = _platform(ctx)
        try:
            n = platform.db.write_sync(lambda c: [writes.reindex(c, int(r[0])) for r in c.fetchall("SELECT id FROM datasets")])
            click.echo(f"reindexed {len(n)} datasets")
        finally:
            platform.close()

    @catalog.command()
    @click.argument("name")
    @click.pass_context
    def quality(ctx: click.Context, name: str) -> None:
        """Show the metadata quality (EU MQA, 405 points) and freshness of dataset NAME."""
        import asyncio

        from urbanos.governance.gate import ADMIN

        platform = _platform(ctx)
        try:
            svc = platform.services["catalog"]
            q = asyncio.run(svc.quality(ADMIN, name))
            f = asyncio.run(svc.freshness(name))
        finally:
            platform.close()
        click.echo(f"{name}: {q['points']}/405 ({q['band']}); freshness: {f['status']}")
        for it in q["indicators"]:
            click.echo(f"  {it['dimension']:<16} {it['label']:<42} {it['points']:>5}/{it['max']:<3} {it['explanation']}")

    return [catalog]


__all__ = ["commands"]
