"""The SensorThings MQTT extension: the broker's hooks, notifications from bus events, creates from publishes.

Notifications: committed events reach :meth:`MqttService.on_event` through the bus (several workers share them
through a cross-process bus). A single worker task hands them to the :class:`~.notify.Notifier`, which renders each
entity through the SensorThings service (``platform.require(SensingPort)``) and fans it out.

Credentials: see :mod:`.credentials`. Subscriptions are checked against what the client may read
(:meth:`MqttService.authorize_subscribe`); a publish to a SensorThings topic is a create through the service.

Usage: each accepted subscription publishes a :class:`urbanos.events.Usage` (``api="mqtt"``, ``action="subscribe"``);
notifications delivered are counted in memory and published every ``USAGE_SECONDS`` (and at stop) as aggregates
(``action="deliver"``, ``count``: the notifications delivered per dataset and application).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import orjson
from prometheus_client import Counter, Gauge

from urbanos.core.ids import is_ascii_digits
from urbanos.errors import BadRequest, UrbanosError
from urbanos.events import Event, Usage, each
from urbanos.governance.identity import ANONYMOUS
from urbanos.ports import SensingPort
from urbanos.sensing.mqtt import credentials, topics
from urbanos.sensing.mqtt.broker import Broker, Hooks, Session
from urbanos.sensing.mqtt.codec import Publish
from urbanos.sensing.mqtt.credentials import CredentialWatch
from urbanos.sensing.mqtt.external import ExternalLink
from urbanos.sensing.mqtt.notify import Notifier
from urbanos.sensing.mqtt.settings import reachable_host

if TYPE_CHECKING:
    from urbanos.bus import Bus
    from urbanos.governance import Identity
    from urbanos.platform import Platform

log = logging.getLogger("urbanos.mqtt")

NOTIFY_BATCH = 256
"""Most events rendered and fanned out together."""
USAGE_SECONDS = 5.0
"""How often the notifications delivered are published as usage (aggregates per dataset and application)."""


class MqttService(Hooks):
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        s = platform.settings
        self.settings = s
        self.sensing = platform.require(SensingPort)
        self.broker = Broker(
            self,
            queue_size=int(s.mqtt_queue_size),
            max_packet=int(s.mqtt_max_packet),
            max_subscriptions=int(s.mqtt_max_subscriptions),
            max_connections=int(s.mqtt_max_connections),
            kick_after=int(s.mqtt_kick_after),
            session_expiry=float(s.mqtt_session_expiry),
            max_retained=int(s.mqtt_max_retained),
        )
        self.base_url: str = (s.base_url or f"http://{reachable_host(s.host)}:{s.port}").rstrip("/")
        self.events: asyncio.Queue[Event] | None = None
        self.worker: asyncio.Task[None] | None = None
        self.follower: asyncio.Task[None] | None = None
        self.usage_task: asyncio.Task[None] | None = None
        self.external: ExternalLink | None = None
        self.tcp_port: int | None = None
        self.landing: tuple[list[Any], int, str | None, str] | None = None
        reg = platform.registry
        self.counter = Counter("urbanos_mqtt_events", "MQTT broker events: connections, refusals, rejected "
                               "publishes, dropped messages", ["event", "reason"], registry=reg)
        sent = Counter("urbanos_mqtt_notifications", "Notification messages handed to subscribers or to the external "
                       "broker", ["target"], registry=reg)
        self.notifier = Notifier(self.broker, self.sensing, self.base_url, sent)
        self.watch = CredentialWatch(self.broker, platform.gate, self.count)
        self._children: dict[tuple[str, str], Any] = {}
        self.created = Counter("urbanos_mqtt_creates", "Entities created via MQTT", ["entity_set"], registry=reg)
        g = Gauge("urbanos_mqtt_sessions", "Connected MQTT clients", registry=reg)
        g.set_function(lambda: len(self.broker.sessions))
        q = Gauge("urbanos_mqtt_event_queue", "Events waiting to become notifications", registry=reg)
        q.set_function(lambda: self.events.qsize() if self.events is not None else 0)
        _bus_gauges(platform.bus, reg)

    def count(self, what: str, reason: str = "", n: int = 1) -> None:
        child = self._children.get((what, reason))
        if child is None:
            child = self._children[(what, reason)] = self.counter.labels(what, reason)
        child.inc(n)

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        loop = asyncio.get_running_loop()
        self.events = asyncio.Queue(maxsize=int(s.mqtt_event_queue))
        self.worker = loop.create_task(self._work())
        self.follower = loop.create_task(self.watch.follow())
        self.usage_task = loop.create_task(self._publish_usage_every(USAGE_SECONDS))
        self.platform.bus.subscribe(self.on_event, topic="sensing")
        if s.mqtt_url:
            self.external = self.notifier.external = ExternalLink(self, s.mqtt_url)
            self.external.start()
        elif int(s.mqtt_port) > 0:
            await self._listen()

    async def _listen(self) -> None:
        s = self.settings
        host = s.mqtt_host or s.host
        port = int(s.mqtt_port)
        # With the default port taken (often by a local Mosquitto), try the next few ports.
        candidates = [port] + ([port + i for i in range(1, 11)] if s.sources.get("mqtt_port") == "default" else [])
        for candidate in candidates:
            try:
                self.tcp_port = await self.broker.listen(host, candidate)
            except OSError as exc:
                error = exc
                continue
            if candidate != port:
                log.warning("mqtt: port %d is in use; the embedded broker listens on %d instead", port, candidate)
                self._readvertise(port, candidate)
            log.info("mqtt: broker listening on %s:%d", host, self.tcp_port)
            return
        log.error("mqtt: cannot listen on %s:%s (%s). Fix: choose a free port with --mqtt-port, or 0 to "
                  "serve MQTT over WebSocket only.", host, s.mqtt_port, error)
        self.count("listen_failed", "port_in_use")

    def _readvertise(self, old: int, new: int) -> None:
        """Fix the advertised endpoints and the landing block after a port fallback."""
        eps = self.platform.services.get("sensing_mqtt_endpoints")
        if isinstance(eps, list):
            for i, e in enumerate(eps):
                if e.startswith("mqtt://") and e.endswith(f":{old}"):
                    eps[i] = e[: -len(str(old))] + str(new)
        if self.landing is not None:
            extra, index, tcp, ws = self.landing
            if tcp and tcp.endswith(f":{old}"):
                tcp = tcp[: -len(str(old))] + str(new)
                self.landing = (extra, index, tcp, ws)
                extra[index] = {lang: text.replace(f"-p {old} ", f"-p {new} ") for lang, text in extra[index].items()}

    async def stop(self) -> None:
        self.platform.bus.unsubscribe(self.on_event)
        if self.external is not None:
            await self.external.stop()
        for task in (self.follower, self.worker, self.usage_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.broker.close()
        self.publish_usage()

    # -- broker hooks ---------------------------------------------------------------------------
    async def authenticate(self, username: str | None, password: bytes | None, peer: str = "") -> Identity:
        """The identity of the token given as the MQTT password (the user name is ignored); ANONYMOUS without one.

        ``peer`` is the client's address (``broker.client_address``), passed by the broker for every CONNECT, for
        the gate's limit of failed authentications per client address.
        """
        return await credentials.authenticate(self.platform.gate, password, peer)

    def may_take_over(self, held: Identity | None, new: Identity | None) -> bool:
        return credentials.may_take_over(held, new)

    async def reauthenticate(self) -> bool:
        """See :meth:`CredentialWatch.reauthenticate`."""
        return await self.watch.reauthenticate()

    async def authorize_subscribe(self, session: Session, topic_filter: str) -> bool:
        ident = session.identity or ANONYMOUS
        ok, why = await self._may_subscribe(ident, topic_filter)
        if not ok:
            log.info("mqtt: %r refused subscription to %r: %s", session, topic_filter, why)
            self.count("subscribe_refused", why)
            return False
        self.platform.bus.deliver_local([Usage(kind="api_read", api="mqtt", action="subscribe",
                                               application=ident.application or "").to_event()])
        return True

    async def _may_subscribe(self, ident: Identity, f: str) -> tuple[bool, str]:
        first = f.split("/", 1)[0]
        if first not in topics.VERSIONS:
            # Plain topics are read by authenticated clients. A filter starting with a wildcard ("#", "+/…") also
            # matches SensorThings topics: those messages are notifications, and every notification is rendered
            # with the subscriber's identity (the gate's filter, transforms and audit), exactly as on a v1.x
            # filter, so it carries only what that identity may read over HTTP.
            return (not ident.is_anonymous, "anonymous_raw_topic")
        if "+" in f or "#" in f:
            return True, ""  # visibility is checked for every notification (rendered per identity)
        try:
            t = topics.parse(f)
        except BadRequest:
            return False, "unknown_topic"
        try:
            if t.kind == "collection" and t.parent is None:
                return True, ""
            if t.kind == "navigation":
                # resolved now: later updates of that entity arrive on this topic
                d = await self.sensing.read_path(t.version, t.path, {}, ident, self.base_url)
                target = d.get("@iot.id") if isinstance(d, dict) else None
                if target is None:
                    return False, "not_found_or_not_visible"
                self.notifier.aliases.setdefault(f"{t.version}/{t.entity_set}({target})", set()).add(f)
                return True, ""
            eset, eid = t.parent if t.parent else (t.entity_set, t.id)
            found = await self.sensing.entity_json(t.version, eset, _id(eid), ident, self.base_url)
        except UrbanosError:
            return False, "unknown_topic"
        if found is None:
            return False, "not_found_or_not_visible"
        return True, ""

    def on_publish(self, session: Session, msg: Publish) -> Awaitable[Any] | None:
        ident = session.identity or ANONYMOUS
        if ident.is_anonymous:
            log.info("mqtt: %r: anonymous publish to %r refused", session, msg.topic)
            self.count("publish_refused", "anonymous")
            return None
        if not topics.is_sta(msg.topic):
            # Plain topics belong to no organisation: publishing (and retaining) there needs the role of
            # ``mqtt_raw_publish_role`` without organisation, as every platform-wide action does.
            role = str(self.settings.mqtt_raw_publish_role)
            if not ident.has_role(role, None):
                log.info("mqtt: %r: publish to plain topic %r refused: it needs the %s role for the whole platform",
                         session, msg.topic, role)
                self.count("publish_refused", "raw_topic_role")
                return None
            if msg.retain:
                self.broker.retain(msg.topic, msg.payload, msg.qos)
            self.broker.route(msg.topic, msg.payload, msg.qos)
            return None
        # A publish to a SensorThings topic is a create request; its retain flag is not honoured: notifications
        # are never retained, so a new subscriber does not get an old entity as if it were new.
        # a create: the broker runs several of one client's creates at once, so they share commits
        return self.create(ident, msg.topic, msg.payload, where=repr(session))

    async def create(self, ident: Identity, topic: str, payload: bytes, where: str) -> dict[str, Any] | None:
        """Create the entity a publish to ``topic`` describes; never raises."""
        try:
            t = topics.parse(topic)
            if not t.creatable:
                raise BadRequest(f"{topic!r} is not a topic to create entities on (use an entity set or a "
                                 "collection such as v1.1/Datastreams(1)/Observations).")
            if len(payload) > int(self.settings.mqtt_max_packet):
                raise BadRequest("The payload is too large.")
            try:
                body = orjson.loads(payload)
            except orjson.JSONDecodeError as exc:
                raise BadRequest(f"The payload is not JSON: {exc}.") from None
            if not isinstance(body, dict):
                raise BadRequest("The payload must be a JSON object.")
            out = await self.sensing.create_at_path(t.version, t.path, body, ident, self.base_url)
        except UrbanosError as exc:
            reason = {400: "invalid_payload", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                      409: "conflict", 413: "too_large", 422: "invalid_payload"}.get(exc.status, "rejected")
            log.warning("mqtt: %s: publish to %r rejected (%s): %s", where, topic, reason, exc)
            self.count("publish_rejected", reason)
            return None
        except Exception:  # noqa: BLE001
            log.exception("mqtt: %s: publish to %r failed", where, topic)
            self.count("publish_rejected", "error")
            return None
        self.created.labels(t.entity_set).inc()
        return out if isinstance(out, dict) else None

    # -- notifications --------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """Bus handler: never blocks, never raises."""
        if self.events is None:
            return
        external = self.external is not None
        if external and getattr(self.platform.bus, "delivering_remote", False):
            return  # the worker that committed it publishes it to the external broker
        if not external and not self.broker.sessions and not self.broker.parked:
            return
        if isinstance(event.data, dict) and "row" in event.data and getattr(self.platform.bus, "delivering_remote", False):
            # values that crossed a process boundary may have lost their types: read the entity instead
            event = dataclasses.replace(event, data={k: v for k, v in event.data.items() if k != "row"})
        try:
            self.events.put_nowait(event)
        except asyncio.QueueFull:
            self.count("dropped", "event_queue_full")

    async def _work(self) -> None:
        """Hand the queued events to the notifier, up to ``NOTIFY_BATCH`` at a time; a batch event (a feed's
        Observations, :func:`urbanos.events.each`) is taken apart into its single events on the way."""
        assert self.events is not None
        while True:
            queued = [await self.events.get()]
            while not self.events.empty() and len(queued) < NOTIFY_BATCH:
                queued.append(self.events.get_nowait())
            batch: list[Event] = []
            for ev in queued:
                for one in each(ev):
                    batch.append(one)
                    if len(batch) >= NOTIFY_BATCH:
                        await self._notify(batch)
                        batch = []
            if batch:
                await self._notify(batch)

    async def _notify(self, batch: list[Event]) -> None:
        try:
            await self.notifier.notify(batch)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("mqtt: notification failed")
            self.count("notify_failed", "error")

    # -- usage ----------------------------------------------------------------------------------
    def publish_usage(self) -> int:
        """Publish the notifications delivered since the last call as usage, one aggregate per dataset and
        application; returns how many aggregates."""
        counts: dict[tuple[int | None, str], int] = {}
        for (ds, ident), n in self.notifier.take_deliveries().items():
            key = (ds, ident.application or "")
            counts[key] = counts.get(key, 0) + n
        if counts:
            self.platform.bus.deliver_local([
                Usage(kind="api_read", api="mqtt", action="deliver", dataset_id=ds, application=app, count=n).to_event()
                for (ds, app), n in counts.items()])
        return len(counts)

    async def _publish_usage_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                self.publish_usage()
            except Exception:  # noqa: BLE001 - counting usage never stops notifications
                log.exception("mqtt: publishing usage failed")


def _bus_gauges(bus: Bus, reg: Any) -> None:
    """A cross-process bus's figures, for the operator."""
    if not hasattr(bus, "origin"):
        return
    b = Gauge("urbanos_bus_remote", "Cross-process bus messages: sent, received events, dropped while "
              "the other side was away", ["figure"], registry=reg)
    for figure in ("sent", "received", "dropped"):
        b.labels(figure).set_function(_figure(bus, figure))
    b.labels("connected").set_function(lambda: 1.0 if getattr(bus, "connected", False) else 0.0)


def _figure(obj: Any, name: str) -> Any:
    return lambda: float(getattr(obj, name, 0))


def _id(raw: str | None) -> Any:
    if raw is None:
        return None
    return int(raw) if is_ascii_digits(raw) else raw


__all__ = ["MqttService", "USAGE_SECONDS"]
