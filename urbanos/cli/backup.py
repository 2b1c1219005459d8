"""``urbanos backup`` and ``urbanos restore``: core commands, the work is in :mod:`urbanos.cli.backup_io`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from urbanos.cli.common import guarded, settings_from

_db_opt = click.option("--db", "db_url", default=None,
                       help="Database URL: empty for SQLite in the data dir, or postgresql://user@host/db.")
_dir_opt = click.option("--data-dir", default=None, help="Data directory (SQLite database, uploads, dashboards).")


@click.command("backup")
@_db_opt
@_dir_opt
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@guarded
def backup(ctx: click.Context, out: Path, db_url: str | None, data_dir: str | None) -> None:
    """Write an online, consistent backup to OUT (a .tar.gz) while the server runs.

    SQLite is copied with its online backup API as of one moment (writers go on);
    PostgreSQL with pg_dump --format=custom (of the schema the URL's search_path
    names, else the database). The data directory's files (catalogue uploads,
    dashboards) go in beside it, with a manifest.json of SHA-256 checksums.

    \b
    Examples:
      urbanos backup --data-dir ./data backup.tar.gz
      urbanos backup --db postgresql://urbanos@localhost/urbanos backup.tar.gz
    """
    from urbanos.cli import backup_io

    settings = settings_from(ctx, db=db_url, data_dir=data_dir)
    if sys.stdout.isatty() and not backup_io.is_postgres(settings):
        with click.progressbar(length=1, label="copying pages", file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            manifest = backup_io.create(settings, out, progress)
    else:
        manifest = backup_io.create(settings, out)
    size = out.stat().st_size
    click.echo(f"backup of the {manifest['backend']} database ({len(manifest['migrations'])} migrations applied, "
               f"{len(manifest['members']) - 1} files) written to {out} ({size / 1e6:.1f} MB)")


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@_db_opt
@_dir_opt
@click.option("--force", is_flag=True, help="Replace a target that is not empty (stop its server first).")
@click.pass_context
@guarded
def restore(ctx: click.Context, archive: Path, force: bool, db_url: str | None, data_dir: str | None) -> None:
    """Restore ARCHIVE (written by 'urbanos backup') and migrate it forward.

    The checksums in the archive's manifest are verified before anything is
    touched. A target that is not empty is refused unless --force is given.
    SQLite is copied into place atomically; PostgreSQL is restored with
    pg_restore (into an empty database, or --clean --if-exists with --force).
    A backup of an older urbanos comes up to date: missing migrations run.

    \b
    Examples:
      urbanos restore backup.tar.gz --data-dir ./restored
      createdb urbanos_restored
      urbanos restore backup.tar.gz --db postgresql://urbanos@localhost/urbanos_restored
    """
    from urbanos.cli import backup_io

    settings = settings_from(ctx, db=db_url, data_dir=data_dir)
    done: dict[str, Any] = backup_io.restore(settings, archive, force)
    click.echo(f"restored the {done['backend']} backup of {done['created_at']} ({done['files']} files)")
    for m in done["migrated"]:
        click.echo(f"applied {m}")


__all__ = ["backup", "restore"]
