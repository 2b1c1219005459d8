"""Harvesting from CKAN and DCAT sources: ``urbanos harvest add|run|list|log``, periodic runs from settings,
and a harvest log with counts (created, updated, deleted, failed).

This module is imported for its settings whenever the settings registry is built, so its hooks import the
harvester (rdflib, for DCAT sources) and its commands when they run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from urbanos.settings import Setting

if TYPE_CHECKING:  # types only: the platform and the web framework load when a hook runs
    import click
    from fastapi import FastAPI

    from urbanos.platform import Platform

log = logging.getLogger("urbanos.harvest")

SETTINGS: tuple[Setting, ...] = (
    Setting("harvest_interval", float, 0.0, "Seconds between scheduled harvests of each source; 0 turns "
            "scheduling off (run with 'urbanos harvest run').", section="catalog", minimum=0),
    Setting("harvest_retry_seconds", float, 300.0, "Seconds before a source that failed is tried again.",
            section="catalog", minimum=1),
    Setting("harvest_timeout", float, 30.0, "Seconds to wait for a harvest source to answer.", section="catalog",
            minimum=0.1),
    Setting("harvest_max_bytes", int, 50 * 1024 * 1024, "Largest answer accepted from a harvest source, in bytes.",
            section="catalog", minimum=1024),
)

_TASK_KEY = "harvest_scheduler"


def mount(app: FastAPI, platform: Platform) -> None:
    return None


async def _scheduler(platform: Platform) -> None:
    from urbanos.catalog.harvest import runner, store  # heavy (rdflib): see the module's docstring

    tick = max(1.0, min(60.0, float(platform.settings.harvest_interval) / 2))
    while True:
        try:
            for src in await store.due_sources(platform.db):
                await runner.run_source(platform, src)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the scheduler must survive one bad run
            log.exception("scheduled harvest failed")
        await asyncio.sleep(tick)


async def startup(platform: Platform) -> None:
    if float(platform.settings.harvest_interval) > 0 and "catalog" in platform.services:
        platform.services[_TASK_KEY] = asyncio.get_running_loop().create_task(_scheduler(platform))


async def shutdown(platform: Platform) -> None:
    task = platform.services.pop(_TASK_KEY, None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def cli_commands() -> list[click.Command]:
    from urbanos.catalog.harvest.cli import harvest  # loads the platform: see the module's docstring

    return [harvest]
