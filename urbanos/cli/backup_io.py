"""The work behind ``urbanos backup`` and ``urbanos restore``: one tar.gz with a manifest.

Archive layout (format 1)::

    manifest.json            format, urbanos version, created_at, back end, migrations, members (size, sha256)
    database/urbanos.db      SQLite: a page-by-page copy made with SQLite's online backup API
    database/urbanos.dump    PostgreSQL: ``pg_dump --format=custom`` of the database or of its schema
    files/...                the data directory's own state: catalogue uploads, dashboards YAML, ...

The SQLite file, its ``-wal``/``-shm``/``-journal`` companions and ``*.log`` files are not copied from the data
directory: the database goes in through the backup API, the rest is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess  # nosec B404 - pg_dump and pg_restore, found on PATH, run with argument lists, no shell
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from urbanos import __version__
from urbanos.errors import ConfigError, ValidationFailed
from urbanos.platform import Platform
from urbanos.plugins import load_components
from urbanos.settings import Settings
from urbanos.storage import upgrade

FORMAT = 1
SQLITE_MEMBER = "database/urbanos.db"
PG_MEMBER = "database/urbanos.dump"
_SKIP = re.compile(r"^urbanos\.db(-wal|-shm|-journal)?$|\.log$")
Progress = Callable[[int, int], None]


# -- where the database is ------------------------------------------------------------------------------------------

def is_postgres(settings: Settings) -> bool:
    return str(settings.db or "").startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


def sqlite_path(settings: Settings) -> Path:
    url = str(settings.db or "")
    return Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else settings.data_path / "urbanos.db"


def pg_url(settings: Settings) -> str:
    return str(settings.db).replace("postgresql+psycopg://", "postgresql://")


def pg_schema(url: str) -> str | None:
    """The first schema of a ``search_path`` given in the URL's ``options`` (``-csearch_path=s,public``)."""
    for opt in parse_qs(urlsplit(url).query).get("options", []):
        m = re.search(r"search_path=([A-Za-z_][A-Za-z0-9_]*)", unquote(opt))
        if m and m.group(1) != "public":
            return m.group(1)
    return None


# -- checksums and the manifest -------------------------------------------------------------------------------------

def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _data_files(data_dir: Path) -> list[Path]:
    if not data_dir.is_dir():
        return []
    out = []
    for p in sorted(data_dir.rglob("*")):
        rel = p.relative_to(data_dir)
        if p.is_file() and not p.is_symlink() and not _SKIP.search(rel.name) and "cache" not in rel.parts[0]:
            out.append(p)
    return out


def _migrations_sqlite(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as c:
        try:
            rows = c.execute("SELECT component, version, name FROM urbanos_migrations ORDER BY component, version")
            return [f"{r[0]}/{int(r[1]):03d} {r[2]}" for r in rows]
        except sqlite3.OperationalError:
            return []


def _migrations_pg(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url) as c:
        try:
            rows = c.execute("SELECT component, version, name FROM urbanos_migrations ORDER BY component, version")
            return [f"{r[0]}/{int(r[1]):03d} {r[2]}" for r in rows.fetchall()]
        except psycopg.errors.UndefinedTable:
            return []


# -- backup ---------------------------------------------------------------------------------------------------------

def backup_sqlite(src: Path, dest: Path, progress: Progress | None = None, pages: int = 4096) -> None:
    """Copy a live SQLite database with the online backup API, in steps of ``pages``.

    The source connection holds one read transaction for the whole copy, so the copy is the database as of its
    start (WAL readers do not block the server's writers) and a write meanwhile does not restart it."""
    if not src.is_file():
        raise ConfigError(f"setting URBANOS_DB / --data-dir: there is no SQLite database at {src}. "
                          "Fix: name the data directory the server uses (--data-dir) or its --db URL.")
    with contextlib.closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)) as s, \
            contextlib.closing(sqlite3.connect(dest)) as d:
        s.execute("BEGIN")
        s.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts here
        s.backup(d, pages=pages, progress=(lambda _st, rem, tot: progress(tot - rem, tot)) if progress else None)
        s.execute("COMMIT")
        d.execute("PRAGMA journal_mode=DELETE")
        ok = d.execute("PRAGMA quick_check").fetchone()[0]
    if ok != "ok":
        raise ConfigError(f"the backup copy failed SQLite's check ({ok}). Fix: check the source database.")


def _major(text: str) -> int:
    m = re.search(r"\)\s*(\d+)", text) or re.search(r"(\d+)", text)
    if not m:
        raise ConfigError(f"cannot read a version from {text!r}. Fix: check the PostgreSQL client tools.")
    return int(m.group(1))


def pg_tool(name: str, url: str) -> str:
    """The path of ``pg_dump``/``pg_restore``, checked to be at least the server's major version."""
    import psycopg

    exe = shutil.which(name)
    if exe is None:
        raise ConfigError(f"{name} is not installed or not on PATH. Fix: install the PostgreSQL client tools "
                          f"(e.g. apt install postgresql-client) of the server's major version.")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout  # nosec B603
    tool = _major(out)
    with psycopg.connect(url, connect_timeout=10) as c:
        server = int(str(c.execute("SHOW server_version_num").fetchone()[0])) // 10000  # type: ignore[index]
    if tool < server:
        raise ConfigError(f"{name} is version {tool} but the server is PostgreSQL {server}. Fix: install the "
                          f"client tools of version {server} or later (postgresql-client-{server}) and put them on PATH.")
    return exe


def _plain_url(url: str) -> str:
    """The URL without its ``options`` (pg_dump sets its own search_path; the schema goes in --schema)."""
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("options="))
    return parts._replace(query=query).geturl()


def backup_pg(url: str, dest: Path) -> None:
    exe = pg_tool("pg_dump", url)
    cmd = [exe, "--format=custom", "--no-owner", "--no-privileges", f"--file={dest}", f"--dbname={_plain_url(url)}"]
    schema = pg_schema(url)
    if schema:
        cmd.append(f"--schema={schema}")
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)  # nosec B603 - an argument list, no shell
    if run.returncode:
        raise ConfigError(f"pg_dump failed: {run.stderr.strip()[:500]} Fix: check the URL and that its user may read "
                          "every table.")


def create(settings: Settings, out: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Write the backup archive ``out``; returns the manifest."""
    if out.exists() and out.is_dir():
        raise ConfigError(f"{out} is a directory. Fix: name the archive file, e.g. {out / 'urbanos-backup.tar.gz'}.")
    with tempfile.TemporaryDirectory(prefix="urbanos-backup-", dir=out.parent if out.parent.is_dir() else None) as tmp:
        work = Path(tmp)
        (work / "database").mkdir()
        if is_postgres(settings):
            backend, member = "postgresql", PG_MEMBER
            backup_pg(pg_url(settings), work / member)
            migrations = _migrations_pg(pg_url(settings))
        else:
            backend, member = "sqlite", SQLITE_MEMBER
            backup_sqlite(sqlite_path(settings), work / member, progress)
            migrations = _migrations_sqlite(work / member)
        members: dict[str, Path] = {member: work / member}
        for f in _data_files(settings.data_path):
            members["files/" + f.relative_to(settings.data_path).as_posix()] = f
        manifest = {
            "format": FORMAT, "urbanos": __version__, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "backend": backend, "schema": pg_schema(pg_url(settings)) if backend == "postgresql" else None,
            "migrations": migrations,
            "members": {name: {"size": p.stat().st_size, "sha256": sha256(p)} for name, p in members.items()},
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
            tar.add(work / "manifest.json", arcname="manifest.json")
            for name, p in members.items():
                tar.add(p, arcname=name)
        os.replace(partial, out)
    return manifest


# -- restore --------------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def unpacked(archive: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Unpack into a temporary folder and verify every member against the manifest before anything is restored."""
    if not archive.is_file():
        raise ConfigError(f"{archive} does not exist. Fix: name a file written by 'urbanos backup'.")
    with tempfile.TemporaryDirectory(prefix="urbanos-restore-") as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(archive, "r:*") as tar:
                tar.extractall(work, filter="data")
            manifest = json.loads((work / "manifest.json").read_text())
        except (tarfile.TarError, OSError, ValueError) as exc:
            raise ValidationFailed(f"{archive} is not a backup archive ({exc}). "
                                   "Fix: name a file written by 'urbanos backup'.") from None
        if manifest.get("format") != FORMAT:
            raise ValidationFailed(f"backup format {manifest.get('format')!r} is not {FORMAT}. "
                                   "Fix: restore it with the urbanos version that wrote it.")
        _verify(work, manifest)
        yield work, manifest


def _verify(work: Path, manifest: dict[str, Any]) -> None:
    listed = set(manifest.get("members") or {})
    present = {p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()} - {"manifest.json"}
    bad = sorted(present ^ listed)
    for name in sorted(listed & present):
        meta = manifest["members"][name]
        if (work / name).stat().st_size != meta["size"] or sha256(work / name) != meta["sha256"]:
            bad.append(name)
    if bad:
        raise ValidationFailed(f"the archive does not match its manifest ({', '.join(bad[:5])}): it was changed or "
                               "damaged. Fix: restore from another copy of the backup; nothing was restored.")


def target_in_use(settings: Settings) -> str | None:
    """Why the target is not empty (None when it is)."""
    if is_postgres(settings):
        import psycopg

        with psycopg.connect(pg_url(settings), connect_timeout=10) as c:
            row = c.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
                            " AND table_name NOT IN ('spatial_ref_sys')").fetchone()
        if row and row[0]:
            return f"the database schema already holds {row[0]} tables"
    else:
        path = sqlite_path(settings)
        if path.is_file() and path.stat().st_size > 0:
            return f"{path} exists"
    files = _data_files(settings.data_path)
    return f"the data directory {settings.data_path} holds {len(files)} files" if files else None


def restore_sqlite(src: Path, dest: Path) -> None:
    """Copy into place atomically: a temporary file beside the target, fsynced, then renamed over it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".restoring")
    shutil.copyfile(src, tmp)
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    for suffix in ("-wal", "-shm", "-journal"):
        dest.with_name(dest.name + suffix).unlink(missing_ok=True)
    os.replace(tmp, dest)


def restore_pg(dump: Path, url: str, schema: str | None, clean: bool) -> None:
    import psycopg

    exe = pg_tool("pg_restore", url)
    with psycopg.connect(url, autocommit=True) as c:
        with contextlib.suppress(psycopg.Error):
            c.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        if schema:  # the target was checked empty (or --force given): the dump creates the schema again
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    cmd = [exe, "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={_plain_url(url)}"]
    if clean and not schema:
        cmd += ["--clean", "--if-exists"]
    run = subprocess.run([*cmd, str(dump)], capture_output=True, text=True, check=False)  # nosec B603 - no shell
    if run.returncode:
        raise ConfigError(f"pg_restore failed: {run.stderr.strip()[:500]} Fix: restore into an empty database "
                          "(createdb) or add --force to replace what is there.")


def restore_files(work: Path, data_dir: Path) -> int:
    files = [p for p in (work / "files").rglob("*") if p.is_file()] if (work / "files").is_dir() else []
    for p in files:
        dest = data_dir / p.relative_to(work / "files")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
    return len(files)


def migrate(settings: Settings) -> list[str]:
    platform = Platform.build(settings, load_components())
    platform.db.open()
    try:
        return [f"{m.component}/{m.version:03d} {m.name}" for m in upgrade(platform.db, platform.migrations())]
    finally:
        platform.db.close()


def restore(settings: Settings, archive: Path, force: bool) -> dict[str, Any]:
    """Verify, restore the database and the files, migrate forward; returns what was done."""
    with unpacked(archive) as (work, manifest):
        target = "postgresql" if is_postgres(settings) else "sqlite"
        if manifest["backend"] != target:
            raise ConfigError(f"the backup is of a {manifest['backend']} database but the target is {target}. "
                              f"Fix: name a {manifest['backend']} target with --db (or --data-dir for SQLite).")
        why = target_in_use(settings)
        if why and not force:
            raise ConfigError(f"the target is not empty: {why}. Fix: restore into an empty data directory or "
                              "database, or add --force to replace it (stop the server first).")
        if target == "postgresql":
            schema = pg_schema(pg_url(settings))
            if schema and manifest.get("schema") and schema != manifest["schema"]:
                raise ConfigError(f"the backup holds schema {manifest['schema']!r}, the target names {schema!r}. "
                                  f"Fix: use search_path={manifest['schema']} in the target URL's options.")
            restore_pg(work / PG_MEMBER, pg_url(settings), manifest.get("schema"), clean=bool(why))
        else:
            restore_sqlite(work / SQLITE_MEMBER, sqlite_path(settings))
        files = restore_files(work, settings.data_path)
    return {"backend": target, "files": files, "migrated": migrate(settings), "created_at": manifest["created_at"]}
