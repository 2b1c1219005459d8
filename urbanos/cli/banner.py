"""What the command line tells a person: which database a command uses, and the demo's banner (what to open, where
the data is, how to get a token)."""

from __future__ import annotations

import shlex
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from urbanos.settings import Settings

WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # compared with, never bound to  # nosec B104
POSTGRES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (user, host, database and options kept)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def describe_database(settings: Settings) -> str:
    """The database the settings open, for people: the SQLite file's absolute path, or the URL without password."""
    url = str(settings.db or "")
    if url.startswith(POSTGRES):
        return redact_url(url)
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):]
    return str((settings.data_path / "urbanos.db").resolve())


def _host(host: str) -> str:
    """``host`` as a browser on this machine reaches it: a wildcard bind address becomes 127.0.0.1."""
    if host in WILDCARD_HOSTS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _mqtt(settings: Settings, base: str) -> str | None:
    if "mqtt_port" not in settings.registry:
        return None
    ws = ("wss://" if base.startswith("https://") else "ws://") + base.split("://", 1)[1] + "/mqtt"
    if settings.get("mqtt_url"):
        tcp = f"external broker {redact_url(str(settings.mqtt_url))}"
    elif int(settings.mqtt_port) > 0:
        tcp = f"mqtt://{_host(str(settings.mqtt_host or settings.host))}:{settings.mqtt_port}"
    else:
        tcp = "TCP off (--mqtt-port 0)"
    return f"{tcp}, WebSockets {ws}"


def token_command(settings: Settings, config: str | None = None) -> str:
    """The exact ``urbanos token create`` that writes into the database these settings open, from any folder."""
    words = ["urbanos"]
    if config:
        words += ["--config", str(Path(config).resolve())]
    words += ["token", "create", "--role", "admin", "--name", "demo", "--data-dir", str(settings.data_path.resolve())]
    if settings.db and settings.sources.get("db") == "cli":
        words += ["--db", redact_url(str(settings.db))]  # from the environment or a settings file it is found again
    return " ".join(shlex.quote(w) for w in words)


def demo_banner(settings: Settings, version: str, config: str | None = None, notes: tuple[str, ...] = ()) -> str:
    """The lines `urbanos demo` prints once it is ready to serve; ``notes`` are added before the last line."""
    base = (settings.base_url or f"http://{_host(settings.host)}:{settings.port}").rstrip("/")
    rows = [
        ("Portal", f"{base}/"),
        ("SensorThings", f"{base}/sta/v1.1/"),
        ("OGC API Features", f"{base}/ogcapi/"),
        ("CKAN Action API", f"{base}/api/3/action/"),
        ("DCAT-AP catalogue", f"{base}/catalog.ttl"),
        ("API documentation", f"{base}/docs"),
        ("Dashboards", f"{base}/dashboards  (usage: {base}/cockpit/public, applications: {base}/showcases)"),
        ("Transparency", f"{base}/transparency  (algorithms: {base}/algorithms)"),
        ("Participation", f"{base}/participation/report  (budget vote: {base}/participation/budgets)"),
    ]
    mqtt = _mqtt(settings, base)
    if mqtt:
        rows.append(("MQTT", mqtt))
    data_dir, database = str(settings.data_path.resolve()), describe_database(settings)
    if database == str(Path(data_dir) / "urbanos.db"):
        rows.append(("Data directory", f"{data_dir} (SQLite database urbanos.db)"))
    else:
        rows += [("Data directory", data_dir), ("Database", database)]
    width = max(len(label) for label, _ in rows)
    lines = [f"urbanos demo {version}: {settings.city_name} is ready", ""]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    lines += [
        "",
        f"To publish, create a token (printed once) and sign in with it at {base}/signin:",
        f"  {token_command(settings, config)}",
        *notes,
        "Stop it with Ctrl+C; `urbanos demo` again reuses the data.",
    ]
    return "\n".join(lines)


__all__ = ["demo_banner", "describe_database", "redact_url", "token_command"]
