"""The connectors capability's component: its settings, migrations and hooks. Every command of the ``urbanos`` CLI loads
this module, so the capability's own modules are imported by the hook that needs them."""

from __future__ import annotations

from urbanos.plugins import Component


class ConnectorsComponent(Component):
    name = "connectors"
