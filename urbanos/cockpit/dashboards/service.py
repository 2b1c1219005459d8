"""The dashboards of a platform: the files of ``<data_dir>/dashboards`` (read again when they change, each checked
against the data as the platform) and the ones publishers made in the portal; with the problems of the files that
could not be loaded (file, line, reason)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from urbanos.cockpit.dashboards import store
from urbanos.cockpit.dashboards.checks import check_dashboard
from urbanos.cockpit.dashboards.files import FileProblem, Loaded, as_file_problem, load_folder
from urbanos.cockpit.dashboards.model import Dashboard, check
from urbanos.governance import ADMIN

if TYPE_CHECKING:
    from urbanos.platform import Platform

log = logging.getLogger("urbanos.cockpit.dashboards")
FOLDER = "dashboards"


class DashboardService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.folder = Path(platform.settings.data_path) / FOLDER
        self.loaded = Loaded({}, [], {})
        self.checked: dict[str, Dashboard] = {}
        self.check_problems: list[FileProblem] = []
        self.signature: tuple[Any, ...] | None = None
        self.lock: asyncio.Lock | None = None

    def _signature(self) -> tuple[Any, ...]:
        if not self.folder.is_dir():
            return ()
        out = []
        for p in sorted(self.folder.iterdir()):
            if p.suffix in (".yaml", ".yml"):
                try:
                    st = p.stat()
                except OSError:
                    continue
                out.append((p.name, st.st_mtime_ns, st.st_size))
        return tuple(out)

    async def refresh(self, force: bool = False) -> None:
        """Read the files again when they changed, and check each dashboard against the data."""
        sig = await asyncio.to_thread(self._signature)
        if sig == self.signature and not force:
            return
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            if sig == self.signature and not force:
                return
            loaded = await asyncio.to_thread(load_folder, self.folder)
            checked: dict[str, Dashboard] = {}
            problems: list[FileProblem] = []
            for slug, dash in loaded.dashboards.items():
                found = await check_dashboard(self.platform, dash, ADMIN, "")
                if found:
                    problems += [as_file_problem(dash.source, loaded.lines.get(slug, {}), p) for p in found]
                else:
                    checked[slug] = dash
            for p in problems:
                log.warning("dashboard file %s", p)
            self.loaded, self.checked, self.check_problems, self.signature = loaded, checked, problems, sig

    def problems(self) -> list[FileProblem]:
        return [*self.loaded.problems, *self.check_problems]

    async def portal(self) -> list[Dashboard]:
        rows = await self.platform.db.read(store.all_rows)
        out = []
        for r in rows:
            if r.slug in self.loaded.dashboards:
                continue  # a file of the same name wins
            dash, _ = check(r.definition, r.slug, origin="portal", source="portal")
            if dash is not None:
                out.append(_owned(dash, r.owner_org))
        return out

    async def all(self) -> list[Dashboard]:
        await self.refresh()
        return sorted([*self.checked.values(), *await self.portal()], key=lambda d: d.title.lower())

    async def get(self, slug: str) -> Dashboard | None:
        await self.refresh()
        if slug in self.checked:
            return self.checked[slug]
        if self.is_file(slug):
            return None  # a file with problems
        row = await self.platform.db.read(lambda c: store.get(c, slug))
        if row is None:
            return None
        dash, _ = check(row.definition, row.slug, origin="portal", source="portal")
        return _owned(dash, row.owner_org) if dash is not None else None

    def is_file(self, slug: str) -> bool:
        return slug in self.loaded.dashboards or any(p.file.rsplit(".", 1)[0] == slug for p in self.loaded.problems)


def _owned(dash: Dashboard, org: str | None) -> Dashboard:
    return replace(dash, organization=org)


__all__ = ["DashboardService", "FOLDER"]
