"""Settings of the cockpit's dashboards."""

from __future__ import annotations

from urbanos.settings import Setting

SETTINGS: tuple[Setting, ...] = ()
