"""How the MQTT extension joins the platform: the service on the platform, the /mqtt WebSocket route, the endpoints
advertised in the SensorThings root document and on the landing page; start and stop with the app."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from urbanos.governance.identity import ANONYMOUS
from urbanos.ports import MessagePort, SensingPort
from urbanos.sensing.mqtt import codec
from urbanos.sensing.mqtt.external import parse_url
from urbanos.sensing.mqtt.routes import add_routes
from urbanos.sensing.mqtt.service import MqttService
from urbanos.sensing.mqtt.settings import reachable_host

if TYPE_CHECKING:
    from urbanos.platform import Platform


def _endpoints(platform: Platform) -> tuple[str | None, str]:
    s = platform.settings
    base = (s.base_url or f"http://{reachable_host(s.host)}:{s.port}").rstrip("/")
    ws = ("wss://" + base[len("https://"):] if base.startswith("https://") else "ws://" + base.split("://", 1)[-1])
    ws += "/mqtt"
    if s.mqtt_url:
        host, port, _u, _p = parse_url(s.mqtt_url)
        return f"mqtt://{host}:{port}", ws
    if int(s.mqtt_port) > 0:
        host = s.mqtt_host or s.host
        if s.base_url:
            host = urlsplit(s.base_url).hostname or host
        return f"mqtt://{reachable_host(host)}:{s.mqtt_port}", ws
    return None, ws


def mount(app: Any, platform: Platform) -> None:
    """Build the MQTT service, add the /mqtt WebSocket route, advertise the endpoints."""
    service = MqttService(platform)
    platform.services["mqtt"] = service
    platform.provide(MessagePort, BrokerMessages(platform, service))
    add_routes(app, service)
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


class BrokerMessages:
    """:class:`urbanos.ports.MessagePort` on the embedded broker: a message on a plain topic reaches each subscriber
    whose identity may read the dataset it belongs to (the gate), so the topic's audience follows that dataset's
    visibility. With an external broker (``mqtt_url``) nothing is delivered here."""

    def __init__(self, platform: Platform, service: MqttService) -> None:
        self.platform = platform
        self.service = service

    async def publish(self, topic: str, payload: bytes, dataset_id: int | None = None) -> int:
        targets = self.service.broker.subscribers(topic)
        if not targets:
            return 0
        gate = self.platform.gate
        ds, grants = (None, []) if dataset_id is None else await self.platform.db.read(
            lambda c: gate.dataset_access(c, dataset_id))
        if dataset_id is not None and ds is None:
            return 0
        sent = 0
        for session, (qos, _filter) in targets.items():
            if gate.can_read(session.identity or ANONYMOUS, ds, grants):
                session.enqueue(codec.publish(topic, payload) if qos == 0 else (topic, payload, 1))
                sent += 1
        return sent


def _landing_html(tcp: str | None, ws: str, ds: Any, name: str | None) -> dict[str, str]:
    """The landing page's box on live values over MQTT, in English and German (``{"en": html, "de": html}``)."""
    topic = html.escape(f"v1.1/Datastreams({ds})/Observations")
    command = f"mosquitto_sub -h {html.escape(_host(tcp))} -p {html.escape(_port(tcp))} -t '{topic}'"
    label = html.escape(name) if name else ""
    listing = '<a href="/sta/v1.1/Datastreams">{}</a>'
    which = {"en": f"the datastream “{label}”" if name else
             "a datastream (replace 1 with an id from " + listing.format("the list of datastreams") + ")",
             "de": f"den Datenstrom „{label}“" if name else
             "einen Datenstrom (1 durch eine Nummer aus " + listing.format("der Liste der Datenströme") + " ersetzen)"}
    return {
        "en": '<section aria-labelledby="mqtt-live"><h2 id="mqtt-live">Live sensor values over MQTT</h2>'
              f"<p>Subscribe to the observations of {which['en']}; every new value arrives as SensorThings JSON, "
              f"the same as the HTTP API serves it.</p><pre><code>{command}</code></pre>"
              f"<p>Browsers: MQTT over WebSocket at <code>{html.escape(ws)}</code> (subprotocol <code>mqtt</code>), "
              f"topic <code>{topic}</code>.</p></section>",
        "de": '<section aria-labelledby="mqtt-live"><h2 id="mqtt-live">Sensorwerte live über MQTT</h2>'
              f"<p>Die Beobachtungen für {which['de']} abonnieren: jeder neue Wert kommt als SensorThings-JSON, "
              f"genau wie die HTTP-API ihn liefert.</p><pre><code>{command}</code></pre>"
              f"<p>Browser: MQTT über WebSocket unter <code>{html.escape(ws)}</code> (Subprotokoll <code>mqtt</code>), "
              f"Topic <code>{topic}</code>.</p></section>",
    }


async def _pick_datastream(platform: Platform, service: MqttService) -> None:
    """Show a real, open datastream on the landing page (the demo's pedestrian counters)."""
    landing = service.landing
    if landing is None:
        return
    try:
        body = await platform.require(SensingPort).read_path("v1.1", "Datastreams", {"$top": "1"}, ANONYMOUS, service.base_url)
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


def _service(platform: Platform) -> MqttService | None:
    service = platform.services.get("mqtt")
    return service if isinstance(service, MqttService) else None


async def startup(platform: Platform) -> None:
    service = _service(platform)
    if service is not None:
        await service.start()
        await _pick_datastream(platform, service)


async def shutdown(platform: Platform) -> None:
    service = _service(platform)
    if service is not None:
        await service.stop()


__all__ = ["mount", "startup", "shutdown", "BrokerMessages"]
