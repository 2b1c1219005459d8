"""``urbanos observations partition``: turn a large plain Observation table into the partitioned one (PostgreSQL;
the sensing migration 3 does it for tables of up to a million rows), with a progress bar."""

from __future__ import annotations

import sys

import click

from urbanos.commands import settings_of
from urbanos.sensing import partitions
from urbanos.storage import open_database


@click.group(name="observations")
def observations() -> None:
    """SensorThings Observations: the table's partitions."""


@observations.command("partition")
@click.option("--db", "db_url", default=None, help="PostgreSQL database URL.")
@click.option("--data-dir", default=None, help="Data directory.")
@click.option("--batch", type=click.IntRange(min=1000), default=500_000, show_default=True,
              help="Observations copied per statement.")
@click.pass_context
def partition(ctx: click.Context, db_url: str | None, data_dir: str | None, batch: int) -> None:
    """Partition the Observation table by phenomenon time (sta_partition_months wide). One transaction: reads go
    on meanwhile; writes of Observations wait until it commits."""
    s = settings_of(ctx, db_url, data_dir)
    url = str(s.db or "")
    if not url.startswith("postgres"):
        raise click.UsageError("only PostgreSQL tables are partitioned; give --db postgresql://…")
    db = open_database(s)
    db.open()
    try:
        with click.progressbar(length=1, label="copying Observations", file=sys.stderr) as bar:
            def progress(done: int, total: int) -> None:
                bar.length = max(1, total)
                bar.update(done - bar.pos)

            n = partitions.convert_database(db, int(s.sta_partition_months), int(s.sta_partitions_ahead), batch,
                                            progress)
    finally:
        db.close()
    click.echo("sta_observations is already partitioned" if n is None else f"partitioned: {n} rows copied")


def commands() -> list[click.Command]:
    return [observations]


__all__ = ["commands", "observations"]
