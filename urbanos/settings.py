"""The settings registry.

Every setting is typed and has a default, help text and a ``sensitive`` flag.
Values are taken, in increasing precedence, from the defaults, ``urbanos.toml``,
``URBANOS_*`` environment variables and CLI flags. Only the ``URBANOS_`` prefix
is read. Capabilities contribute their own settings through their component;
``urbanos.plugins.settings_registry()`` gathers them all.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from urbanos.errors import ConfigError

ENV_PREFIX = "URBANOS_"


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    sensitive: bool = False
    section: str = "core"
    choices: tuple[str, ...] | None = None
    minimum: float | None = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, raw: Any, source: str) -> Any:
        """Turn ``raw`` (from TOML, env or CLI) into this setting's type or raise ConfigError."""
        where = {"env": self.env, "cli": self.flag}.get(source, f"{self.name} in {source}")
        try:
            value = _coerce(self.type, raw)
        except (TypeError, ValueError):
            raise ConfigError(
                f"setting {where}: {raw!r} is not a valid {self.type.__name__}. "
                f"Fix: set it to a {_type_hint(self.type)} ({self.help.rstrip('.')})."
            ) from None
        if self.choices is not None and value not in self.choices:
            raise ConfigError(
                f"setting {where}: {raw!r} is not allowed. Fix: use one of {', '.join(self.choices)}."
            )
        if self.minimum is not None and isinstance(value, int | float) and value < self.minimum:
            raise ConfigError(f"setting {where}: {raw!r} is too small. Fix: use a value >= {self.minimum:g}.")
        return value


def _type_hint(t: type) -> str:
    return {
        int: "whole number",
        float: "number",
        bool: "boolean (true/false)",
        str: "text",
        list: "comma-separated list",
    }.get(t, t.__name__)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(t: type, raw: Any) -> Any:
    if t is bool:
        if isinstance(raw, bool):
            return raw
        s = str(raw).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise ValueError(raw)
    if t is int:
        if isinstance(raw, bool):
            raise ValueError(raw)
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError(raw)
        return int(str(raw).strip()) if not isinstance(raw, int | float) else int(raw)
    if t is float:
        if isinstance(raw, bool):
            raise ValueError(raw)
        return float(raw)
    if t is list:
        if isinstance(raw, list | tuple):
            return [str(x) for x in raw]
        return [part.strip() for part in str(raw).split(",") if part.strip()]
    if t is str:
        if isinstance(raw, dict | list):
            raise ValueError(raw)
        return str(raw)
    raise TypeError(t)


CORE_SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "127.0.0.1", "Interface the HTTP server binds to."),
    Setting("port", int, 8000, "TCP port of the HTTP server.", minimum=0),
    Setting("health_port", int, 0, "TCP port of a health listener of its own (GET /healthz and /readyz only, on the "
            "host of the server), answered in a thread outside the event loop so that probes answer within "
            "milliseconds under any load; with --workers N the supervising process answers for its workers. 0 "
            "turns it off.", minimum=0),
    Setting(
        "db",
        str,
        "",
        "Database URL. Empty means SQLite in the data directory; postgresql://user@host/db selects "
        "PostgreSQL/PostGIS.",
        sensitive=True,
    ),
    Setting("data_dir", str, "./urbanos-data", "Directory for the SQLite database, uploads and caches; the same default "
            "for every command (serve, demo, import, token, db, harvest), relative to the folder it runs in."),
    Setting("city_name", str, "Demo City", "The city's name, shown on the landing page."),
    Setting(
        "attribution",
        str,
        "",
        "Attribution line shown in the page footer (data sources and licences).",
    ),
    Setting(
        "base_url",
        str,
        "",
        "Public base URL (e.g. https://data.city.example). Empty means it is taken from each request (its Host "
        "header, checked against allowed_hosts). With https, the portal's sign-in cookie is always Secure.",
    ),
    Setting(
        "allowed_hosts",
        list,
        ["127.0.0.1", "localhost", "[::1]"],
        "Host names the server answers to (comma separated; the Host header without port). The host of base_url "
        "is always allowed; *.example.org allows the subdomains of example.org; '*' allows any host (for "
        "development only: links are then built from whatever Host a client sends). Other hosts get 400; "
        "/healthz and /metrics answer any host.",
    ),
    Setting(
        "trusted_proxies",
        list,
        [],
        "Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-Proto, X-Forwarded-For and "
        "X-Forwarded-Host headers are believed (comma separated). Empty: these headers are ignored.",
    ),
    Setting(
        "map_tile_url",
        str,
        "",
        "Map tile URL template for the OGC API Features HTML maps (e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png); "
        "empty draws the features without a base map. Its origin is allowed as an image source by the "
        "Content-Security-Policy.",
    ),
    Setting(
        "admin_token",
        str,
        "",
        "A bearer token that is an administrator from the first start, for automated clients.",
        sensitive=True,
    ),
    Setting("log_level", str, "info", "Log level.", choices=("debug", "info", "warning", "error")),
    Setting("log_format", str, "json", "Log format: structured JSON lines or plain text.", choices=("json", "text")),
    Setting("access_log", bool, True, "Log one line per HTTP request."),
    Setting("cors_origins", list, [], "Origins allowed by CORS (comma separated); '*' allows all."),
    Setting("max_body_bytes", int, 10 * 1024 * 1024, "Largest request body accepted, in bytes.", minimum=1),
    Setting("request_timeout", float, 30.0, "Seconds before a request that has not started answering is cut off.", minimum=0.1),
    Setting(
        "max_concurrent_requests",
        int,
        512,
        "Requests served at once; more are shed with 503 and Retry-After instead of queueing without bound.",
        minimum=1,
    ),
    Setting("shed_max_wait", float, 2.0, "Longest expected queue wait, in seconds, for which a request waits for a "
            "slot of its class (measured time in a slot x requests queued / budget); beyond it the request gets 503 "
            "with Retry-After at once. 0 queues nothing.", minimum=0),
    Setting("shed_answers_per_second", float, 50.0, "Most 503 answers a second to connections that come back "
            "before the Retry-After of their last 503; their answers are held (no slot, no work) until that "
            "Retry-After and their turn, for at most shed_hold_max seconds, so that clients retrying at once cannot "
            "make answering 503s the server's main work. A first refusal is answered at once. 0 holds none.",
            minimum=0),
    Setting("shed_hold_max", float, 30.0, "Longest time a shed request's 503 is held back (shed_answers_per_second).",
            minimum=0),
    Setting("budget_heavy_reads", int, 16, "Reads of the data APIs (SensorThings, OGC API Features, CKAN, downloads) "
            "served at once; 0 means no budget of their own (only max_concurrent_requests).", minimum=0),
    Setting("budget_writes", int, 64, "Writes (POST, PUT, PATCH, DELETE) served at once; 0 means no budget of their "
            "own.", minimum=0),
    Setting("budget_mqtt", int, 1000, "MQTT over WebSocket connections open at once; more are refused (close code "
            "1013, try again later); 0 means no budget of their own.", minimum=0),
    Setting("budget_other", int, 64, "Other requests (pages, static files, documents, administration) served at "
            "once; 0 means no budget of their own. /healthz, /readyz and /metrics are never limited.", minimum=0),
    Setting("rate_limit_per_token", float, 0.0, "Requests a second each API token (or admin token) may send, in "
            "bursts of as many; more get 429 with Retry-After. 0 turns the limit off.", minimum=0),
    Setting("rate_limit_per_address", float, 0.0, "Requests a second each client address may send without a token "
            "(behind a proxy: the address from trusted_proxies' X-Forwarded-For); 0 turns the limit off.", minimum=0),
    Setting("gzip_min_size", int, 1024, "Responses larger than this many bytes are gzip-compressed when asked.", minimum=0),
    Setting("sqlite_read_connections", int, 4, "Size of the SQLite read connection pool.", minimum=1),
    Setting("sqlite_batch_size", int, 256, "Most write jobs the SQLite writer groups into one commit.", minimum=1),
    Setting("sqlite_cache_mb", int, 64, "Memory for SQLite's page caches in all, in MB: the writer's connection "
            "takes half, the read connections share the other half. The rest of the database is read through the "
            "operating system's file cache, so the server's memory does not grow with the database.", minimum=4),
    Setting("db_read", str, "", "PostgreSQL URL of a streaming standby of the db database that serves read-only "
            "requests (empty: every read goes to db). Writes stay on db; a read goes to db instead while the standby "
            "does not answer, lags more than db_read_max_lag_seconds, or has not yet replayed this process's last "
            "write (see docs/scaling.md).", sensitive=True),
    Setting("db_read_max_lag_seconds", float, 5.0, "Largest replication lag, in seconds, at which the db_read "
            "standby still serves reads; beyond it reads go to the primary.", minimum=0),
    Setting("pg_pool_min", int, 2, "Smallest PostgreSQL connection pool size.", minimum=1),
    Setting("pg_pool_max", int, 10, "Largest PostgreSQL connection pool size.", minimum=1),
    Setting("pg_group_size", int, 64, "Most single-Observation POSTs written in one PostgreSQL transaction when they "
            "arrive together (group commit; 1: each in a transaction of its own).", minimum=1),
    Setting("pg_group_concurrency", int, 1, "Groups of single-Observation POSTs written at the same time on "
            "PostgreSQL (see pg_group_size).", minimum=1),
    Setting("pg_pool_timeout", float, 5.0, "Seconds a request waits for a PostgreSQL connection when all are busy "
            "before 503; while the database is down requests fail at once.", minimum=0.1),
    Setting("statement_timeout", float, 15.0, "Seconds a single database query may run (PostgreSQL).", minimum=0.1),
    Setting(
        "bus",
        str,
        "memory",
        "Event bus: 'memory' (one process), 'postgres' (LISTEN/NOTIFY on the database) or a redis:// URL.",
    ),
    Setting("oidc_jwks_url", str, "", "JWKS URL of the OIDC provider (e.g. Keycloak's .../protocol/openid-connect/certs)."),
    Setting("oidc_issuer", str, "", "Expected 'iss' of OIDC tokens (the provider's issuer URL); required when "
            "oidc_jwks_url is set."),
    Setting("oidc_audience", str, "", "Expected 'aud' of OIDC tokens (this platform's client id at the provider); "
            "required when oidc_jwks_url is set."),
    Setting(
        "oidc_roles_claim",
        str,
        "roles",
        "Claim holding the roles, a dotted path such as realm_access.roles. Values are ROLE or ROLE:ORG.",
    ),
    Setting("oidc_org_claim", str, "", "Claim holding the caller's organisation, if roles are not scoped."),
    Setting("token_cache_seconds", float, 60.0, "Seconds a verified token is cached before it is checked again.", minimum=0),
    Setting(
        "oidc_jwks_refresh_seconds",
        float,
        60.0,
        "Fewest seconds between two fetches of the OIDC provider's JWKS (a token naming an unknown key triggers one).",
        minimum=1,
    ),
    Setting(
        "auth_failures_per_minute",
        int,
        10,
        "Failed token verifications allowed per client address and minute; beyond them the address gets 429 "
        "(MQTT: not authorized) until it earns another try. 0 turns the limit off.",
        minimum=0,
    ),
    Setting("auth_failure_cache_seconds", float, 10.0, "Seconds a refused token is remembered as refused "
            "(without verifying it again).", minimum=0),
    Setting("auth_verify_concurrency", int, 2, "Token hash verifications (argon2) run at once; more wait.", minimum=1),
    Setting(
        "outbound_allow",
        list,
        [],
        "Hosts, addresses and networks (CIDR) that fetches by URL (import by URL, harvest, connectors) may reach "
        "although they are not public internet addresses, e.g. ckan.intranet,10.20.0.0/16.",
    ),
    Setting("outbound_max_redirects", int, 5, "Most redirects a fetch by URL follows (each one checked again).",
            minimum=0),
    Setting("outbound_timeout", float, 30.0, "Seconds a fetch by URL (import by URL) waits to connect or for more "
            "data.", minimum=0.1),
    Setting("outbound_transfer_seconds", float, 600.0, "Longest time one fetch by URL may take, redirects and body "
            "included.", minimum=1),
)


@dataclass
class Settings:
    """Effective settings: values by name, and where each value came from."""

    registry: Mapping[str, Setting]
    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(f"unknown setting {name!r}") from None

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def replace(self, **overrides: Any) -> Settings:
        values = dict(self.values)
        sources = dict(self.sources)
        for name, raw in overrides.items():
            s = self._setting(name)
            values[name] = s.parse(raw, "cli")
            sources[name] = "cli"
        return Settings(self.registry, values, sources)

    def _setting(self, name: str) -> Setting:
        try:
            return self.registry[name]
        except KeyError:
            raise ConfigError(f"unknown setting {name!r}. Fix: see 'urbanos settings' for the list.") from None

    def effective(self) -> list[tuple[Setting, Any, str]]:
        return [(s, self.values[s.name], self.sources.get(s.name, "default")) for s in self.registry.values()]

    def display(self, name: str) -> str:
        s = self.registry[name]
        value = self.values[name]
        if s.sensitive and value:
            return "****"
        if isinstance(value, list):
            return ",".join(value)
        return str(value)

    @property
    def data_path(self) -> Path:
        return Path(self.values["data_dir"]).expanduser()


def build_registry(settings: Iterable[Setting]) -> dict[str, Setting]:
    registry: dict[str, Setting] = {}
    for s in settings:
        if s.name in registry:
            raise ConfigError(f"setting {s.name!r} is registered twice")
        registry[s.name] = s
    return registry


def _flatten_toml(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}".replace("-", "_")
        if isinstance(value, dict):
            flat.update(_flatten_toml(value, prefix=name + "_"))
        else:
            flat[name] = value
    return flat


def load(
    registry: Mapping[str, Setting],
    *,
    toml_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve the effective settings: defaults < TOML < URBANOS_* env < overrides (CLI)."""
    env = os.environ if env is None else env
    values = {name: s.default for name, s in registry.items()}
    sources = {name: "default" for name in registry}

    path: Path | None = None
    if toml_path is not None:
        path = Path(toml_path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist. Fix: check the path given with --config.")
    elif env.get(ENV_PREFIX + "CONFIG"):
        path = Path(env[ENV_PREFIX + "CONFIG"])
        if not path.is_file():
            raise ConfigError(f"setting URBANOS_CONFIG: {path} does not exist. Fix: point it at an urbanos.toml.")
    elif Path("urbanos.toml").is_file():
        path = Path("urbanos.toml")
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} is not valid TOML ({exc}). Fix: correct the syntax.") from None
        for name, raw in _flatten_toml(data).items():
            if name not in registry:
                raise ConfigError(
                    f"config file {path}: unknown setting {name!r}. Fix: remove it; 'urbanos settings' lists them."
                )
            values[name] = registry[name].parse(raw, str(path))
            sources[name] = str(path)

    for name, s in registry.items():
        if s.env in env:
            values[name] = s.parse(env[s.env], "env")
            sources[name] = "env"

    for name, raw in (overrides or {}).items():
        if raw is None:
            continue
        if name not in registry:
            raise ConfigError(f"unknown setting {name!r}. Fix: see 'urbanos settings' for the list.")
        values[name] = registry[name].parse(raw, "cli")
        sources[name] = "cli"
    return Settings(registry, values, sources)


def reference_markdown(registry: Mapping[str, Setting]) -> str:
    """The settings reference page, generated from the registry."""
    lines = [
        "# Settings reference",
        "",
        "<!-- Generated by `urbanos settings --markdown`; do not edit by hand. -->",
        "",
        "Precedence, lowest first: the default, `urbanos.toml` (or the file named by `URBANOS_CONFIG`),",
        "the `URBANOS_*` environment variable, then the command-line flag. Sensitive values are masked",
        "by `urbanos settings`.",
        "",
    ]
    sections: dict[str, list[Setting]] = {}
    for s in registry.values():
        sections.setdefault(s.section, []).append(s)
    for section, items in sections.items():
        lines += [f"## {section}", "", "| setting | environment | type | default | sensitive | meaning |", "|---|---|---|---|---|---|"]
        for s in items:
            default = ",".join(s.default) if isinstance(s.default, list) else s.default
            if s.sensitive and default:
                default = "****"
            shown = "*(empty)*" if default in ("", None) else f"`{default}`"
            choices = f" One of: {', '.join(s.choices)}." if s.choices else ""
            lines.append(
                f"| `{s.name}` | `{s.env}` | {s.type.__name__} | {shown} | {'yes' if s.sensitive else 'no'} | "
                f"{s.help}{choices} |"
            )
        lines.append("")
    return "\n".join(lines)


__all__ = ["Setting", "Settings", "CORE_SETTINGS", "build_registry", "load", "reference_markdown", "ENV_PREFIX"]
