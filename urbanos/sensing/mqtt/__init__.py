"""The SensorThings MQTT extension: embedded broker, WebSocket endpoint, external broker mode.

The sensing component includes :data:`SETTINGS` in its settings and calls :func:`mount`,
:func:`startup` and :func:`shutdown`. See docs/mqtt.md.
"""

from __future__ import annotations

import html
from typing import Any

from urbanos.governance.identity import ROLES
from urbanos.settings import Setting

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


def _endpoints(platform: Any) -> tuple[str | None, str]:
    s = platform.settings
    base = (s.base_url or f"http://{_reachable(s.host)}:{s.port}").rstrip("/")
    ws = ("wss://" + base[len("https://"):] if base.startswith("https://") else "ws://" + base.split("://", 1)[-1])
    ws += "/mqtt"
    if s.mqtt_url:
        from urbanos.sensing.mqtt.external import parse_url

        host, port, _u, _p = parse_url(s.mqtt_url)
        return f"mqtt://{host}:{port}", ws
    if int(s.mqtt_port) > 0:
        host = s.mqtt_host or s.host
        if s.base_url:
            from urllib.parse import urlsplit

            host = urlsplit(s.base_url).hostname or host
        return f"mqtt://{_reachable(host)}:{s.mqtt_port}", ws
    return None, ws


def _reachable(host: str) -> str:
    """A wildcard bind address is not a host name clients can use."""
    return "localhost" if host in ("", "0.0.0.0", "::", "[::]") else host


def mount(app: Any, platform: Any) -> None:
    """Build the MQTT service, add the /mqtt WebSocket route, advertise the endpoints."""
    from urbanos.sensing.mqtt.routes import add_routes
    from urbanos.sensing.mqtt.service import MqttService

    service = MqttService(platform)
    platform.services["mqtt"] = service
    add_routes(app, platform)
    tcp, ws = _endpoints(platform)
    endpoints = [e for e in (tcp, ws) if e]
    platform.services["sensing_mqtt_endpoints"] = endpoints  # read by the SensorThings root document
    conf = platform.services.setdefault("sta_server_settings", {})
    for v in ("1.1",):
        conf[f"http://www.opengis.net/spec/iot_sensing/{v}/req/create-observations-via-mqtt/observations-creation"] = {
            "endpoints": endpoints}
        conf[f"http://www.opengis.net/spec/iot_sensing/{v}/req/receive-updates-via-mqtt/receive-updates"] = {
            "endpoints": endpoints}
    extra = platform.services.setdefault("landing_extra", [])
    service.landing = (extra, len(extra), tcp, ws)
    extra.append(_landing_html(tcp, ws, 1, None))


def _landing_html(tcp: str | None, ws: str, ds: Any, name: str | None) -> str:
    topic = f"v1.1/Datastreams({ds})/Observations"
    which = (f"the datastream “{html.escape(name)}”" if name else "a datastream (replace 1 with an id from "
             '<a href="/sta/v1.1/Datastreams">the list of datastreams</a>)')
    return (
        '<section aria-labelledby="mqtt-live"><h2 id="mqtt-live">Live sensor values over MQTT</h2>'
        f"<p>Subscribe to the observations of {which}; every new value arrives as SensorThings JSON, "
        "the same as the HTTP API serves it.</p>"
        f"<pre><code>mosquitto_sub -h {html.escape(_host(tcp))} -p {html.escape(_port(tcp))} -t "
        f"'{html.escape(topic)}'</code></pre>"
        f"<p>Browsers: MQTT over WebSocket at <code>{html.escape(ws)}</code> (subprotocol <code>mqtt</code>), "
        f"topic <code>{html.escape(topic)}</code>.</p></section>"
    )


async def _pick_datastream(platform: Any, service: Any) -> None:
    """Show a real, open datastream on the landing page (the demo's pedestrian counters)."""
    from urbanos.governance.identity import ANONYMOUS

    sensing = platform.services.get("sensing")
    landing = getattr(service, "landing", None)
    if sensing is None or landing is None:
        return
    try:
        body = await sensing.read_path("v1.1", "Datastreams", {"$top": "1"}, ANONYMOUS, service.base_url)
    except Exception:  # noqa: BLE001 - the landing page keeps its generic example
        return
    items = body.get("value") or []
    if items:
        extra, index, tcp, ws = landing
        extra[index] = _landing_html(tcp, ws, items[0].get("@iot.id", 1), items[0].get("name"))


def _host(url: str | None) -> str:
    return url.split("://", 1)[1].rsplit(":", 1)[0] if url else "localhost"


def _port(url: str | None) -> str:
    return url.rsplit(":", 1)[1] if url else "1883"


async def startup(platform: Any) -> None:
    service = platform.services.get("mqtt")
    if service is not None:
        await service.start()
        await _pick_datastream(platform, service)


async def shutdown(platform: Any) -> None:
    service = platform.services.get("mqtt")
    if service is not None:
        await service.stop()


def cli_commands() -> list[Any]:
    return []
