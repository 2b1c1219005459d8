"""The settings of the SensorThings MQTT extension (section ``mqtt``), listed by the sensing component."""

from __future__ import annotations

from urbanos.governance.identity import ROLES
from urbanos.settings import Setting

WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # compared with, never bound to  # nosec B104
"""Bind addresses that mean every interface: not host names that clients can use."""


def reachable_host(host: str) -> str:
    """``host`` as clients can reach it: a wildcard bind address becomes ``localhost``."""
    return "localhost" if host in WILDCARD_HOSTS else host


SETTINGS: tuple[Setting, ...] = (
    Setting("mqtt_port", int, 1883, "TCP port of the embedded MQTT 3.1.1 broker; 0 turns the TCP listener off "
            "(MQTT over WebSocket at /mqtt stays available).", section="mqtt", minimum=0),
    Setting("mqtt_host", str, "", "Interface the MQTT broker binds to; empty means the HTTP host.", section="mqtt"),
    Setting("mqtt_url", str, "", "External broker (mqtt://host:port): notifications are published there and "
            "creates are taken from its topics instead of running the embedded broker.", section="mqtt",
            sensitive=True),
    Setting("mqtt_url_token", str, "", "Token whose identity creates entities published on the external broker; "
            "empty refuses creates from the external broker.", section="mqtt", sensitive=True),
    Setting("mqtt_shared_group", str, "urbanos", "Shared-subscription group for creates on the external broker, so "
            "that each create is handled by one worker; empty subscribes without $share.", section="mqtt"),
    Setting("mqtt_url_prefix", str, "", "Prefix of every topic on the external broker (e.g. 'city/' gives "
            "city/v1.1/Things(1)); empty uses the SensorThings topics as they are.", section="mqtt"),
    Setting("mqtt_queue_size", int, 1000, "Messages queued per subscriber before the oldest is dropped.",
            section="mqtt", minimum=1),
    Setting("mqtt_kick_after", int, 10000, "Disconnect a subscriber after this many dropped messages without its "
            "queue draining; 0 never disconnects.", section="mqtt", minimum=0),
    Setting("mqtt_event_queue", int, 10000, "Committed events waiting to become notifications before new ones are "
            "dropped.", section="mqtt", minimum=1),
    Setting("mqtt_max_packet", int, 256 * 1024, "Largest MQTT packet (and create payload) accepted, in bytes.",
            section="mqtt", minimum=64),
    Setting("mqtt_max_subscriptions", int, 100, "Most subscriptions one client may hold.", section="mqtt", minimum=1),
    Setting("mqtt_max_connections", int, 10000, "Most concurrent MQTT clients (and most disconnected persistent "
            "sessions kept).", section="mqtt", minimum=1),
    Setting("mqtt_session_expiry", int, 3600, "Seconds a disconnected client's persistent session (clean session "
            "= 0: subscriptions and up to mqtt_queue_size QoS 1 messages) is kept; 0 treats every session as clean.",
            section="mqtt", minimum=0),
    Setting("mqtt_max_retained", int, 1000, "Most retained messages kept (plain MQTT topics; SensorThings "
            "notifications are never retained).", section="mqtt", minimum=0),
    Setting("mqtt_raw_publish_role", str, "publisher", "Role, held for the whole platform (not only for one "
            "organisation), that publishing and retaining messages on plain MQTT topics (outside v1.0/ and v1.1/) "
            "needs.", section="mqtt", choices=ROLES),
)


__all__ = ["SETTINGS"]
