"""Settings of the cockpit's alerts."""

from __future__ import annotations

from urbanos.settings import Setting

SETTINGS: tuple[Setting, ...] = ()
