"""The SensorThings MQTT extension: embedded broker, WebSocket endpoint, external broker mode.

The sensing component includes :data:`SETTINGS` in its settings and calls :func:`~.wiring.mount`,
:func:`~.wiring.startup` and :func:`~.wiring.shutdown`. See docs/mqtt.md.
"""

from __future__ import annotations

from urbanos.sensing.mqtt.settings import SETTINGS

__all__ = ["SETTINGS"]
