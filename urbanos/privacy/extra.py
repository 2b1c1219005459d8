"""Retention and purge, the consent register, impact assessments and the transparency page: the privacy capability's
hooks for them, called by :mod:`urbanos.privacy.component` (settings, migrations 20–29, setup, routes, OpenAPI,
commands, start and stop, demo)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from urbanos.settings import Setting

if TYPE_CHECKING:
    import click

    from urbanos.platform import Platform
    from urbanos.storage import Migration

log = logging.getLogger("urbanos.privacy")

SETTINGS = (
    Setting("privacy_dpo_org", str, "", "The data-protection organisation: its stewards approve or reject data protection "
            "impact assessments (empty: only admins decide).", section="privacy"),
    Setting("privacy_purge_interval_seconds", int, 3600, "Seconds between two automatic retention purges in the server "
            "(0: none; `urbanos purge` still works).", section="privacy", minimum=0),
)


def migrations() -> list[Migration]:
    from urbanos.privacy.retention.schema import MIGRATIONS

    return list(MIGRATIONS)


def setup(platform: Platform) -> None:
    from urbanos.privacy.consent.service import ConsentRegister
    from urbanos.privacy.consent.state import PrivacyState
    from urbanos.privacy.dpia.service import Assessments
    from urbanos.privacy.retention.service import Retention
    from urbanos.privacy.retention.shared import check_name
    from urbanos.privacy.transparency.service import Transparency

    state = PrivacyState(platform.db)
    state.reload_sync()
    consent = ConsentRegister(platform, state)
    dpias = Assessments(platform, state)
    platform.services.update({"privacy_state": state, "privacy_retention": Retention(platform),
                              "privacy_consent": consent, "privacy_dpias": dpias,
                              "privacy_transparency": Transparency(platform)})
    platform.gate.add_transform(consent.transform)
    platform.gate.add_write_check("dataset.access", dpias.check_dataset_access)
    platform.gate.add_write_check("dataset.access", check_name)
    platform.gate.add_write_check("observation", dpias.check_observation)


def mount(app: Any, platform: Platform) -> None:
    from urbanos.privacy.consent.routes import mount as mount_consent
    from urbanos.privacy.dpia.routes import mount as mount_dpia
    from urbanos.privacy.retention.routes import mount as mount_retention
    from urbanos.privacy.transparency.routes import mount as mount_transparency

    for fn in (mount_retention, mount_consent, mount_dpia, mount_transparency):
        fn(app)


def openapi_part() -> dict[str, Any]:
    from urbanos.privacy.transparency.openapi import openapi_part as part

    return part()


def cli_commands() -> list[click.Command]:
    from urbanos.privacy.retention.cli import purge

    return [purge]


async def _purge_loop(platform: Platform, interval: float) -> None:
    retention = platform.services["privacy_retention"]
    while True:
        await asyncio.sleep(interval)
        try:
            results = await asyncio.to_thread(retention.purge_sync)
            if any(r["rows"] for r in results):
                log.info("retention purge: %d rows deleted", sum(r["rows"] for r in results))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - try again at the next interval
            log.exception("retention purge failed")


async def startup(platform: Platform) -> None:
    platform.services["privacy_state"].start()
    interval = int(platform.settings.get("privacy_purge_interval_seconds", 3600) or 0)
    if interval > 0:
        platform.services["privacy_purge_task"] = asyncio.get_running_loop().create_task(_purge_loop(platform, interval))


async def shutdown(platform: Platform) -> None:
    task = platform.services.pop("privacy_purge_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await platform.services["privacy_state"].stop()


def demo(platform: Platform) -> None:
    from urbanos.privacy.transparency.demo import load_demo

    load_demo(platform)


__all__ = ["SETTINGS", "migrations", "setup", "mount", "openapi_part", "cli_commands", "startup", "shutdown", "demo"]
