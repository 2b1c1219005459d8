"""Connectors declared in a TOML file (the setting ``connectors_file``), read when the server or worker starts.

.. code-block:: toml

    [connector.stadtrad]
    type = "gbfs"
    url = "https://example.org/gbfs/gbfs.json"
    dataset = "bike-sharing"
    every = "1m"

    [connector.stadtrad.mapping]
    language = "de"

Each table ``[connector.NAME]`` takes the members of ``POST /connectors`` (``type``, ``url``, ``dataset``, ``every``
or ``cron``, ``mapping``, ``enabled``). A declared connector that does not exist is created as the platform admin;
one that exists gets the file's ``url``, schedule, ``mapping`` and ``enabled`` (its type must match; its dataset stays).
Connectors the file does not name are left alone. Any error stops the start with a ConfigError naming the file and
the key (``connectors.toml: [connector.stadtrad].every: …``)."""

from __future__ import annotations

import tomllib
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from urbanos.connectors import store
from urbanos.errors import ConfigError, UrbanosError
from urbanos.governance import ADMIN

if TYPE_CHECKING:
    from urbanos.connectors.service import ConnectorService

KEYS = ("type", "url", "dataset", "every", "cron", "mapping", "enabled")


def read(path: Path) -> dict[str, dict[str, Any]]:
    """The declared connectors by name; ConfigError naming the file and key for anything else."""
    if not path.is_file():
        raise ConfigError(f"setting connectors_file: {path} does not exist. Fix: point it at a TOML file of "
                          "[connector.NAME] tables, or leave the setting empty.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix: correct the syntax.") from None
    extra = sorted(set(data) - {"connector"})
    if extra:
        raise ConfigError(f"{path}: unknown key {extra[0]!r}. Fix: declare connectors as [connector.NAME] tables.")
    tables = data.get("connector", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: connector must be a table of [connector.NAME] tables.")
    out: dict[str, dict[str, Any]] = {}
    for name, body in tables.items():
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: [connector.{name}] must be a table.")
        unknown = sorted(set(body) - set(KEYS))
        if unknown:
            raise ConfigError(f"{path}: [connector.{name}].{unknown[0]}: unknown key. Fix: use {', '.join(KEYS)}.")
        for key in ("type", "dataset"):
            if key not in body:
                raise ConfigError(f"{path}: [connector.{name}].{key} is missing.")
        out[name] = dict(body)
    return out


def _key_of(exc: UrbanosError) -> str:
    detail = getattr(exc, "detail", None)
    return f".{next(iter(detail))}" if isinstance(detail, dict) and detail else ""


async def apply(service: ConnectorService, path: Path) -> list[str]:
    """Create or update the connectors ``path`` declares (as the platform admin); their names."""
    declared = read(path)
    db = service.platform.db
    for name, body in declared.items():
        where = f"{path}: [connector.{name}]"
        try:
            have = await db.read(partial(store.get, name=name))
            if have is None:
                await service.add(ADMIN, {"name": name, **body})
                continue
            if have.type != body["type"]:
                raise ConfigError(f"{where}.type: the connector exists with type {have.type!r}. Fix: remove it "
                                  "first (urbanos connector remove) or give this one another name.")
            change = {k: v for k, v in body.items() if k in ("url", "every", "cron", "mapping", "enabled")}
            if change:
                await service.change(ADMIN, name, change)
        except ConfigError:
            raise
        except UrbanosError as exc:
            raise ConfigError(f"{where}{_key_of(exc)}: {exc.message}") from None
    return list(declared)


__all__ = ["read", "apply", "KEYS"]
