"""``urbanos``: serve, demo, settings, db, token, and the commands capabilities add."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from urbanos import __version__
from urbanos.cli.backup import backup, restore
from urbanos.cli.banner import demo_banner, describe_database
from urbanos.cli.common import check_port, fail, guarded, run_server, settings_from
from urbanos.errors import ValidationFailed
from urbanos.plugins import Component, load_components, settings_registry
from urbanos.settings import Settings, reference_markdown
from urbanos.web.logs import configure_logging

if TYPE_CHECKING:
    from urbanos.storage import Database


class _Group(click.Group):
    """Adds the capabilities' commands lazily, so `urbanos --help` lists them all."""

    def _extra(self) -> dict[str, click.Command]:
        if not hasattr(self, "_extras"):
            extras: dict[str, click.Command] = {}
            for comp in load_components():
                for cmd in comp.cli_commands():
                    if cmd.name:
                        extras[cmd.name] = cmd
            self._extras = extras
        return self._extras

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._extra()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._extra().get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """A capability's command reports a configuration or platform error as the built-in ones do: one line
        naming the fix and exit code 2 (1 for a server-side failure), not a traceback."""
        return guarded(super().invoke)(ctx)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="urbanos")
@click.option("--config", type=click.Path(dir_okay=False), default=None, help="Settings file (default: ./urbanos.toml if present).")
@click.option("--set", "set_values", multiple=True, metavar="NAME=VALUE", help="Set any setting, e.g. --set city_name=Hamburg. Repeatable.")
def cli(config: str | None, set_values: tuple[str, ...]) -> None:
    """urbanos — the open urban data platform.

    Serves SensorThings API (HTTP and MQTT), OGC API Features, the CKAN Action API,
    DCAT-AP and a transparency portal, on SQLite by default or PostgreSQL/PostGIS.

    \b
    Start a demo city:        urbanos demo
    Serve your own data:      urbanos serve --data-dir ./data
    Create a publisher token: urbanos token create --role publisher --org mobility

    Every command that opens the database (serve, demo, import, token, db,
    harvest) uses the data directory ./urbanos-data unless --data-dir,
    URBANOS_DATA_DIR or urbanos.toml names another.

    Settings come from defaults, urbanos.toml, URBANOS_* variables and flags, in
    that order; `urbanos settings` shows the effective values.
    """


def _server_options(fn: Any) -> Any:
    fn = click.option("--host", default=None, help="Interface to bind (setting host, default 127.0.0.1).")(fn)
    fn = click.option("--port", default=None, type=str, help="HTTP port (setting port, default 8000).")(fn)
    fn = click.option("--health-port", default=None, type=str, help="Port of the health listener (/healthz, /readyz "
                      "outside the event loop; setting health_port, default 0: off).")(fn)
    fn = click.option("--db", default=None, help="Database URL: empty for SQLite in the data dir, or postgresql://user@host/db.")(fn)
    fn = click.option("--data-dir", default=None, help="Data directory for SQLite, uploads and caches.")(fn)
    fn = click.option("--mqtt-port", default=None, type=str, help="Port of the embedded MQTT broker; 0 turns it off.")(fn)
    fn = click.option("--mqtt-url", default=None, help="External MQTT broker (mqtt://host:port) instead of the embedded one.")(fn)
    return fn


def _flags(**kw: Any) -> dict[str, Any]:
    out = dict(kw)
    if out.get("mqtt_port") is not None:

        if "mqtt_port" not in settings_registry():
            out.pop("mqtt_port")
    elif "mqtt_port" in out:
        out.pop("mqtt_port")
    if out.get("mqtt_url") is None:
        out.pop("mqtt_url", None)
    return out


@cli.command()
@_server_options
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Server processes sharing the port, started and watched by a supervising process (more than one: "
                   "PostgreSQL, or a redis:// bus on SQLite); worker 0 also runs the MQTT broker's TCP listener; the "
                   "supervisor runs the health listener (health_port). Default: one process, no supervisor.")
@click.pass_context
@guarded
def serve(ctx: click.Context, workers: int | None, **flags: Any) -> None:
    """Serve the platform over HTTP (and MQTT).

    Runs migrations at start. Stop with Ctrl+C.

    \b
    Examples:
      urbanos serve --data-dir ./data --port 8080
      urbanos serve --db postgresql://urbanos@localhost/urbanos
      urbanos serve --db postgresql://urbanos@localhost/urbanos --workers 4
      urbanos serve --data-dir ./data --workers 1 --health-port 8081
    """
    settings = settings_from(ctx, **_flags(**flags))
    if workers is not None:
        from urbanos.cli.workers import serve_workers, worker_settings

        settings = worker_settings(settings, workers)
        configure_logging(settings.log_level, settings.log_format)
        check_port(settings.host, settings.port)
        _check_health_port(settings)
        click.echo(f"urbanos {__version__}: serving {settings.city_name} on http://{settings.host}:{settings.port}/ with "
                   f"{workers} worker{'s' if workers > 1 else ''} ({describe_database(settings)}; bus {settings.bus})", err=True)
        serve_workers(settings, workers)
        return
    _serve(settings)


def _check_health_port(settings: Settings) -> None:
    """The health listener's port: free, and not the server's own."""
    port = int(settings.health_port)
    if port and port == int(settings.port):
        fail("setting URBANOS_HEALTH_PORT / --health-port: it is the server's own port. Fix: choose another port "
             "for the health listener, or 0 to turn it off.")
    check_port(settings.host, port, "URBANOS_HEALTH_PORT / --health-port")


def _serve(settings: Settings, banner: str | None = None) -> None:
    """Serve; ``banner`` (the demo's) is printed instead of the one-line start message."""
    from urbanos.web.app import create_app

    configure_logging(settings.log_level, settings.log_format)
    check_port(settings.host, settings.port)
    _check_health_port(settings)
    app = create_app(settings)
    if banner is not None:
        app.state.platform.services["demo"] = True
        click.echo(banner)
    else:
        click.echo(f"urbanos {__version__}: serving {settings.city_name} on http://{settings.host}:{settings.port}/ "
                   f"({app.state.platform.db.dialect.name}: {describe_database(settings)})", err=True)
    run_server(app, settings)


SIMULATED_NOTE = ("Live sensor values are simulated: after April 2017 the pedestrian counts replay the\n"
                  "recorded counts of the same weekday and hour, with a little noise.")


@cli.command()
@click.option("--port", default=None, type=str, help="HTTP port (default 8000).")
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1).")
@click.option("--data-dir", default=None, help="Data directory (setting data_dir; default ./urbanos-data, as for every command).")
@click.option("--db", default=None, help="Database URL (default: SQLite in the data dir).")
@click.option("--mqtt-port", default=None, type=str, help="Port of the embedded MQTT broker; 0 turns it off.")
@click.pass_context
@guarded
def demo(ctx: click.Context, **flags: Any) -> None:
    """Serve a demo city with real open data and simulated live sensors.

    Loads the Melbourne pedestrian counters (City of Melbourne, CC BY 4.0) and
    the Hamburg district boundaries (FHH, dl-de/by-2-0) into the data directory
    (the same default, ./urbanos-data, as serve, import and token), then serves
    it and prints where to go. Loading is idempotent.
    """
    settings = settings_from(ctx, **_flags(**flags))
    if settings.sources.get("city_name") == "default":
        settings = settings.replace(city_name="Demo City")
    if settings.sources.get("attribution") == "default":
        settings = settings.replace(
            attribution="Contains information from City of Melbourne (CC BY 4.0) and Freie und Hansestadt Hamburg, "
            "LGV (Datenlizenz Deutschland – Namensnennung 2.0)"
        )
    settings = demo_log_format(settings, sys.stderr.isatty())
    configure_logging(settings.log_level, settings.log_format)
    check_port(settings.host, settings.port)
    if settings.sources.get("data_dir") == "default" and Path("urbanos-demo").is_dir() and not settings.data_path.exists():
        click.echo("note: ./urbanos-demo holds an earlier demo's data; the demo now uses ./urbanos-data, the data "
                   "directory of every command (--data-dir ./urbanos-demo serves the earlier one).", err=True)
    comps = load_components()
    _load_demo(settings, comps)
    notes = (SIMULATED_NOTE,) if any(c.name == "sensing" for c in comps) else ()
    _serve(settings, banner=demo_banner(settings, __version__, ctx.find_root().params.get("config"), notes))


def demo_log_format(settings: Settings, terminal: bool) -> Settings:
    """The demo's logs read as plain text lines on a terminal (a person watches them under the banner), unless a
    log format was chosen; `urbanos serve`, and the demo writing to a file or pipe, keep JSON lines."""
    if terminal and settings.sources.get("log_format") == "default":
        return settings.replace(log_format="text")
    return settings


def _load_demo(settings: Settings, comps: list[Component]) -> None:
    """Migrate (one summary line instead of a log line per migration, unless log_level is debug) and load the demo
    data of every capability."""
    from urbanos.platform import Platform
    from urbanos.storage import open_database, upgrade

    platform = Platform.build(settings, comps)
    storage_log = logging.getLogger("urbanos.storage")
    if settings.log_level != "debug":
        storage_log.setLevel(logging.WARNING)
    database = open_database(settings)
    database.open()
    try:
        ran = upgrade(database, platform.migrations())
    finally:
        database.close()
        storage_log.setLevel(logging.NOTSET)
    state = f"{len(ran)} migrations applied" if ran else "up to date"
    click.echo(f"database ready: {state} ({describe_database(settings)})", err=True)
    click.echo(f"demo: loading the demo data ({', '.join(c.name for c in comps)}) …", err=True)
    platform.open()
    try:
        for comp in comps:
            comp.demo(platform)
    finally:
        platform.close()


@cli.command("settings")
@click.option("--markdown", is_flag=True, help="Print the settings reference page instead (docs/reference/settings.md).")
@click.pass_context
@guarded
def settings_cmd(ctx: click.Context, markdown: bool) -> None:
    """Show every setting, its effective value (secrets masked) and where it came from."""

    if markdown:
        click.echo(reference_markdown(settings_registry()), nl=False)
        return
    s = settings_from(ctx)
    width = max(len(name) for name in s.registry)
    for setting, _value, source in s.effective():
        click.echo(f"{setting.name:<{width}}  {s.display(setting.name):<28}  ({source}; {setting.env})")


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.option("--db", "db_url", default=None, help="Database URL (default: SQLite in the data dir).")
@click.option("--data-dir", default=None, help="Data directory.")
@click.pass_context
@guarded
def db_upgrade(ctx: click.Context, db_url: str | None, data_dir: str | None) -> None:
    """Apply missing migrations (they also run at every start)."""
    from urbanos.platform import Platform
    from urbanos.storage import upgrade

    settings = settings_from(ctx, db=db_url, data_dir=data_dir)
    platform = Platform.build(settings, load_components())
    platform.db.open()
    try:
        ran = upgrade(platform.db, platform.migrations())
    finally:
        platform.db.close()
    if ran:
        for m in ran:
            click.echo(f"applied {m.component} {m.version:03d} {m.name}")
    else:
        click.echo("database is up to date")


@cli.group()
def token() -> None:
    """Create, list and revoke API tokens.

    Tokens are hashed with argon2; the secret is shown once, at creation.
    """


def _open_db(ctx: click.Context, db_url: str | None, data_dir: str | None) -> Database:
    from urbanos.platform import Platform
    from urbanos.storage import upgrade

    settings = settings_from(ctx, db=db_url, data_dir=data_dir)
    platform = Platform.build(settings, load_components())
    platform.db.open()
    upgrade(platform.db, platform.migrations())
    return platform.db


_db_opt = click.option("--db", "db_url", default=None, help="Database URL (default: SQLite in the data dir).")
_dir_opt = click.option("--data-dir", default=None, help="Data directory.")


@token.command("create")
@click.option("--role", required=True, type=click.Choice(["admin", "publisher", "steward", "reader"]), help="Role of the token.")
@click.option("--org", default=None, help="Organisation the role is limited to (none: all).")
@click.option("--name", default="", help="Name of the application or person using it (shown in usage statistics).")
@_db_opt
@_dir_opt
@click.pass_context
@guarded
def token_create(ctx: click.Context, role: str, org: str | None, name: str, db_url: str | None, data_dir: str | None) -> None:
    """Create a token and print it once."""
    from urbanos.governance.tokens import create_token

    database = _open_db(ctx, db_url, data_dir)
    try:
        secret = database.write_sync(lambda c: create_token(c, role, org, name))
    finally:
        database.close()
    click.echo(secret)
    click.echo("Store it now: it cannot be shown again. Send it as 'Authorization: Bearer <token>'.", err=True)


@token.command("list")
@_db_opt
@_dir_opt
@click.pass_context
@guarded
def token_list(ctx: click.Context, db_url: str | None, data_dir: str | None) -> None:
    """List tokens (never their secrets)."""
    from urbanos.governance.tokens import list_tokens

    database = _open_db(ctx, db_url, data_dir)
    try:
        rows = database.read_sync(list_tokens)
    finally:
        database.close()
    if not rows:
        click.echo("no tokens")
    for t in rows:
        state = f"revoked {t.revoked_at}" if t.revoked_at else "active"
        click.echo(f"{t.id:>4}  {t.role:<9}  {t.org or '-':<16}  {t.name or '-':<20}  created {t.created_at}  {state}")


@token.command("revoke")
@click.argument("token_id", type=int)
@_db_opt
@_dir_opt
@click.pass_context
@guarded
def token_revoke(ctx: click.Context, token_id: int, db_url: str | None, data_dir: str | None) -> None:
    """Revoke token TOKEN_ID (see `urbanos token list`). Running servers stop accepting it within token_cache_seconds."""
    from urbanos.governance.tokens import revoke_token

    database = _open_db(ctx, db_url, data_dir)
    try:
        database.write_sync(lambda c: revoke_token(c, token_id))
    finally:
        database.close()
    click.echo(f"token {token_id} revoked")


cli.add_command(backup)
cli.add_command(restore)


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dataset", required=True, help="Name of the dataset (created when missing); also the collection id.")
@click.option("--importer", default=None, help="Force an importer by name (default: chosen from the file).")
@click.option("--strict", is_flag=True, help="Refuse the whole import if any row is bad (default: load the good rows).")
@click.option("--time-field", default=None, help="Column holding the features' time (default: a column named datetime).")
@click.option("--title", default=None, help="Title of the dataset when it is created.")
@click.option("--org", default=None, help="Organisation that owns the dataset when it is created.")
@click.option("--access-level", default=None, type=click.Choice(["open", "registered", "internal", "confidential"]),
              help="Access level of the dataset when it is created (default open).")
@_db_opt
@_dir_opt
@click.pass_context
@guarded
def import_cmd(ctx: click.Context, path: str, dataset: str, importer: str | None, db_url: str | None,
               data_dir: str | None, **options: Any) -> None:
    """Load a file (CSV, GeoJSON, GeoPackage, zipped Shapefile, XLSX, or a known feed such as
    Melbourne's pedestrian counts) into dataset DATASET.

    \b
    Examples:
      urbanos import districts.geojson --dataset districts
      urbanos import counts.csv --dataset pedestrians --strict
    """
    from urbanos.platform import Platform

    settings = settings_from(ctx, db=db_url, data_dir=data_dir)
    configure_logging("warning", "text")
    comps = load_components()
    candidates = [imp for comp in comps for imp in comp.importers()]
    if importer:
        chosen = [i for i in candidates if i.name == importer]
        if not chosen:
            names = ", ".join(sorted(i.name for i in candidates)) or "none installed"
            raise ValidationFailed(f"no importer named {importer!r}. Fix: use one of: {names}.")
        best = chosen[0]
    else:
        scored = sorted(((i.score(path), i) for i in candidates), key=lambda t: -t[0])
        if not scored or scored[0][0] <= 0:
            raise ValidationFailed(
                f"no importer can read {path}. Fix: use CSV, GeoJSON, GeoPackage, zipped Shapefile or XLSX."
            )
        best = scored[0][1]
    click.echo(f"database: {describe_database(settings)}")
    platform = Platform.build(settings, comps)
    platform.open()
    try:
        report = best.run(platform, path, dataset, {k: v for k, v in options.items() if v not in (None, False)})
    finally:
        platform.close()
    for key, value in report.items():
        if key != "errors":
            click.echo(f"{key}: {value}")
    errors_ = report.get("errors") or []
    for err in errors_[:50]:
        click.echo(f"  {err}", err=True)
    if len(errors_) > 50:
        click.echo(f"  … and {len(errors_) - 50} more", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors become one line and exit code 2."""
    try:
        rv = cli.main(args=argv, prog_name="urbanos", standalone_mode=False)
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx else "urbanos"
        fail(f"{exc.format_message()} Fix: see '{cmd} --help'.")
    except click.Abort:
        fail("aborted", 1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    if isinstance(rv, int) and rv:
        sys.exit(rv)


if __name__ == "__main__":
    main()
