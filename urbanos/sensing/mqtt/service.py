"""The SensorThings MQTT extension: broker hooks, notifications from bus events, creates from publishes.

Notifications: committed events reach :meth:`MqttService.on_event` through the bus (several workers
share them through a cross-process bus). A single worker task renders each entity once per topic form
and caller identity through ``platform.services["sensing"].entity_json`` (so the payload is the HTTP
JSON, and the gate decides visibility), then hands it to the matching sessions' bounded queues.

Credentials: a client authenticates at CONNECT and its session keeps that identity. A background task asks
the gate about once per ``Gate.RECHECK_SECONDS`` whether the credentials version moved (a token revoked, a
membership changed, in any process); when it did, every session that gave credentials is verified again:
a session whose credentials no longer hold is disconnected (and not kept for a resume), one whose rights
changed gets its new identity, so later notifications render with the new rights.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable
from typing import Any

import orjson
from prometheus_client import Counter, Gauge

from urbanos.core.ids import is_ascii_digits
from urbanos.errors import BadRequest, Unauthorized, UrbanosError
from urbanos.events import Event
from urbanos.governance.identity import ANONYMOUS
from urbanos.sensing.mqtt import codec, topics
from urbanos.sensing.mqtt.broker import Broker, Hooks, Item, Refused, Session
from urbanos.sensing.mqtt.codec import Publish
from urbanos.sensing.mqtt.topics import Topic

log = logging.getLogger("urbanos.mqtt")


class MqttService(Hooks):
    def __init__(self, platform: Any) -> None:
        self.platform = platform
        s = platform.settings
        self.settings = s
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
        self.events: asyncio.Queue[Event] | None = None
        self.worker: asyncio.Task[None] | None = None
        self.follower: asyncio.Task[None] | None = None
        self.external: Any = None
        self.tcp_port: int | None = None
        self.notifications = 0
        # entity topic -> subscribed navigation filters that lead to it (v1.1/Datastreams(1)/Thing …)
        self.aliases: dict[str, set[str]] = {}
        self._topic_cache: dict[tuple[Any, ...], list[Topic]] = {}
        self.landing: tuple[list[str], int, str | None, str] | None = None
        reg = platform.registry
        self.counter = Counter("urbanos_mqtt_events", "MQTT broker events: connections, refusals, rejected "
                               "publishes, dropped messages", ["event", "reason"], registry=reg)
        self.sent = Counter("urbanos_mqtt_notifications", "Notification messages handed to subscribers or to "
                            "the external broker", ["target"], registry=reg)
        self._children: dict[tuple[str, str], Any] = {}
        self._sent_subscriber = self.sent.labels("subscriber")
        self._sent_external = self.sent.labels("external")
        self.created = Counter("urbanos_mqtt_creates", "Entities created via MQTT", ["entity_set"], registry=reg)
        g = Gauge("urbanos_mqtt_sessions", "Connected MQTT clients", registry=reg)
        g.set_function(lambda: len(self.broker.sessions))
        q = Gauge("urbanos_mqtt_event_queue", "Events waiting to become notifications", registry=reg)
        q.set_function(lambda: self.events.qsize() if self.events is not None else 0)
        bus = platform.bus
        if hasattr(bus, "origin"):  # a cross-process bus: its figures, for the operator
            b = Gauge("urbanos_bus_remote", "Cross-process bus messages: sent, received events, dropped while "
                      "the other side was away", ["figure"], registry=reg)
            for figure in ("sent", "received", "dropped"):
                b.labels(figure).set_function(_figure(bus, figure))
            b.labels("connected").set_function(lambda: 1.0 if getattr(bus, "connected", False) else 0.0)

    # -- settings-derived values ----------------------------------------------------------------
    @property
    def base_url(self) -> str:
        s = self.settings
        host = "localhost" if s.host in ("", "0.0.0.0", "::", "[::]") else s.host
        return (s.base_url or f"http://{host}:{s.port}").rstrip("/")

    @property
    def sensing(self) -> Any:
        svc = self.platform.services.get("sensing")
        if svc is None:
            raise UrbanosError("The SensorThings service is not available.", status=503)
        return svc

    def count(self, what: str, reason: str = "", n: int = 1) -> None:
        child = self._children.get((what, reason))
        if child is None:
            child = self._children[(what, reason)] = self.counter.labels(what, reason)
        child.inc(n)

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        self.events = asyncio.Queue(maxsize=int(s.mqtt_event_queue))
        self.worker = asyncio.get_running_loop().create_task(self._work())
        changed_since = getattr(self.platform.gate, "credentials_changed_since", None)
        if changed_since is not None:
            self.follower = asyncio.get_running_loop().create_task(self._follow_credentials(changed_since))
        self.platform.bus.subscribe(self.on_event, topic="sensing")
        if s.mqtt_url:
            from urbanos.sensing.mqtt.external import ExternalLink

            self.external = ExternalLink(self, s.mqtt_url)
            self.external.start()
        elif int(s.mqtt_port) > 0:
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
                break
            else:
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
                extra[index] = extra[index].replace(f"-p {old} ", f"-p {new} ")

    async def stop(self) -> None:
        self.platform.bus.unsubscribe(self.on_event)
        if self.external is not None:
            await self.external.stop()
        for task in (self.follower, self.worker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.broker.close()

    # -- broker hooks ---------------------------------------------------------------------------
    async def authenticate(self, username: str | None, password: bytes | None, peer: str = "") -> Any:
        """The identity of the token given as the MQTT password (the user name is ignored); ANONYMOUS without one.

        ``peer`` is the client's address (``broker.client_address``), passed by the broker for every CONNECT, for
        the gate's limit of failed authentications per client address (see the call below).
        """
        gate = self.platform.gate
        try:
            token = _token(password)
        except ValueError:
            gate.record_failure(peer or None)
            raise Refused(codec.BAD_CREDENTIALS, "the password is not a token (not UTF-8 text)") from None
        if not token:
            return ANONYMOUS
        if not (token.isascii() and token.isprintable()):
            # API tokens, OIDC tokens and the admin token are printable ASCII (HTTP headers carry them)
            gate.record_failure(peer or None)
            raise Refused(codec.BAD_CREDENTIALS, "the password is not a token (not printable ASCII)")
        try:
            # failed verifications count against the client's address (the gate's limit per address)
            return await gate.authenticate(token, client=peer or None)
        except UrbanosError as exc:
            if exc.status == 429:  # this address failed too often: refused, like any client that may not connect
                raise Refused(codec.NOT_AUTHORIZED, exc.message) from None
            if exc.status >= 500:  # cannot tell now (database away): try later
                raise Refused(codec.UNAVAILABLE, "credentials cannot be checked now") from None
            raise Refused(codec.BAD_CREDENTIALS, exc.message if hasattr(exc, "message") else str(exc)) from None

    def may_take_over(self, held: Any, new: Any) -> bool:
        """A client id is taken over by the same identity (subject), or by an authenticated client from an
        anonymous one (anonymous clients cannot be told apart, and their sessions carry open data only; a client
        with a token is not locked out of its id by an anonymous squatter). Anyone else is refused."""
        held, new = held or ANONYMOUS, new or ANONYMOUS
        if held.subject == new.subject and held.kind == new.kind:
            return True
        return bool(held.is_anonymous and not new.is_anonymous)

    # -- sessions follow revokes and membership changes -----------------------------------------
    async def _follow_credentials(self, changed_since: Any) -> None:
        """Every ``RECHECK_SECONDS`` or so: when the credentials version moved, verify the sessions again.

        Never raises (a failure is logged and counted, and the next round tries again); cancelled at stop.
        """
        interval = float(getattr(self.platform.gate, "RECHECK_SECONDS", 1.0))
        seen: int | None = None
        while True:
            await asyncio.sleep(interval)
            try:
                b = self.broker
                if not any(s.credentials for s in b.sessions.values()) and \
                        not any(s.credentials for s, _t in b.parked.values()):
                    continue  # ``seen`` stays: a move meanwhile is noticed once sessions come
                moved, version = await changed_since(seen)
                if version is None:
                    continue  # not readable now
                # the first time, sessions may have connected before any version was read: verify them once
                if (moved or seen is None) and await self.reauthenticate():
                    seen = version
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the broker goes on; the next round tries again
                log.exception("mqtt: following credential changes failed")
                self.count("recheck_failed", "error")

    async def reauthenticate(self) -> bool:
        """Verify again every session (connected or kept) that gave credentials at CONNECT: end those whose
        credentials no longer hold, give the others their current identity. Each distinct credential is
        verified once. True when every session could be checked (False: try again later)."""
        b = self.broker
        sessions = [s for s in b.sessions.values() if s.credentials] + [s for s, _t in b.parked.values() if s.credentials]
        verdicts: dict[tuple[str | None, bytes], Any] = {}
        complete = True
        for s in sessions:
            creds = s.credentials
            if creds is None or (s.closed and not s.parked):
                continue  # gone meanwhile
            if creds not in verdicts:
                try:
                    verdicts[creds] = await self.platform.gate.authenticate(_token(creds[1]))
                except (Unauthorized, ValueError):
                    verdicts[creds] = None
                except Exception as exc:  # noqa: BLE001 - cannot tell now (database away): keep, check later
                    log.warning("mqtt: could not verify the credentials of %r again: %r", s, exc)
                    complete = False
                    continue
            ident = verdicts[creds]
            if s.credentials is not creds:
                continue
            if ident is None:
                log.info("mqtt: ending %r: its credentials are no longer valid", s)
                self.count("disconnected", "credentials_revoked")
                if s.parked:
                    b.drop_parked(s)
                else:
                    await s.end()
            elif ident != s.identity:
                log.info("mqtt: %r: its rights changed; notifications follow them", s)
                self.count("identity_changed", "credentials_changed")
                s.identity = ident
        return complete

    async def authorize_subscribe(self, session: Session, topic_filter: str) -> bool:
        ident = session.identity or ANONYMOUS
        ok, why = await self._may_subscribe(ident, topic_filter)
        if not ok:
            log.info("mqtt: %r refused subscription to %r: %s", session, topic_filter, why)
            self.count("subscribe_refused", why)
        return ok

    async def _may_subscribe(self, ident: Any, f: str) -> tuple[bool, str]:
        first = f.split("/", 1)[0]
        if first not in topics.VERSIONS:
            # Plain topics are read by authenticated clients. A filter starting with a wildcard ("#", "+/…") also
            # matches SensorThings topics: those messages are notifications, and every notification is rendered
            # with the subscriber's identity (``_notify``: the gate's filter, transforms and audit), exactly as on
            # a v1.x filter, so it carries only what that identity may read over HTTP.
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
                self.aliases.setdefault(f"{t.version}/{t.entity_set}({target})", set()).add(f)
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

    async def create(self, ident: Any, topic: str, payload: bytes, where: str) -> dict[str, Any] | None:
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
        assert self.events is not None
        while True:
            batch = [await self.events.get()]
            while not self.events.empty() and len(batch) < 256:
                batch.append(self.events.get_nowait())
            try:
                await self._notify(batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("mqtt: notification failed")
                self.count("notify_failed", "error")

    def _event_topics(self, ev: Event) -> list[Topic]:
        """The base topics of an event; creates with the same links share one list (a batch of Observations)."""
        links = (ev.data or {}).get("links") if isinstance(ev.data, dict) else None
        if ev.kind != "created":
            return topics.event_topics(ev.kind, ev.entity, ev.id, links, ev.changed)
        try:
            key = (ev.entity, tuple(links.items()) if links else ())
            hash(key)
        except TypeError:
            return topics.event_topics(ev.kind, ev.entity, ev.id, links, ev.changed)
        found = self._topic_cache.get(key)
        if found is None:
            if len(self._topic_cache) >= 4096:
                self._topic_cache.clear()
            found = self._topic_cache[key] = topics.event_topics(ev.kind, ev.entity, ev.id, links, ev.changed)
        return found

    def _matches(self, ev: Event, tl: list[Topic] | None = None) -> list[tuple[str, Topic, dict[Session, int]]]:
        """(topic name, topic form, subscribed session -> QoS) for every subscription that hears ``ev``.

        A session hears each topic name once, at the highest QoS of its matching subscriptions (3.3.5).
        """
        b = self.broker
        out: list[tuple[str, Topic, dict[Session, int]]] = []
        for t in self._event_topics(ev) if tl is None else tl:
            name = t.base
            forms = self.aliases.get(name)
            if forms and t.kind == "entity":
                for f in list(forms):
                    if f not in b.exact:
                        forms.discard(f)  # nobody is subscribed any more
                        continue
                    tt = _with_select(t, f, ev)
                    if tt is not None:
                        out.append((f, tt, b.exact[f]))
                if not forms:
                    del self.aliases[name]
            for full in b.by_base.get(name, ()):
                subs = b.exact.get(full)
                if subs:
                    tt = _with_select(t, full, ev)
                    if tt is not None:
                        out.append((full, tt, subs))
            for f, subs in b.wild_matches(name) if b.wild else ():
                query = f.partition("?")[2]
                full = f"{name}?{query}" if query else name
                tt = _with_select(t, full, ev)
                if tt is not None:
                    out.append((full, tt, subs))
        if len(out) > 1 and len({m[0] for m in out}) < len(out):
            merged: dict[str, tuple[str, Topic, dict[Session, int]]] = {}
            for full, tt, subs in out:
                if full not in merged:
                    merged[full] = (full, tt, dict(subs))
                    continue
                into = merged[full][2]
                for s, q in subs.items():
                    if into.get(s, -1) < q:
                        into[s] = q
            out = list(merged.values())
        return out

    async def _notify(self, batch: list[Event]) -> None:
        if self.external is not None:
            await self._notify_external(batch)
            return
        # Each payload is rendered once per (event, topic form, identity) and encoded once per topic name;
        # each session gets everything for this batch in one enqueue.
        plan: list[tuple[Event, str, Topic, Any, list[tuple[Session, int]]]] = []
        keys: dict[tuple[Any, ...], tuple[Event, Topic, Any]] = {}
        groups: dict[int, tuple[dict[Session, int], dict[Any, list[tuple[Session, int]]]]] = {}
        # creates with the same links share their topic list, and their matches do not depend on the event
        shared: dict[int, tuple[list[Topic], list[tuple[str, Topic, dict[Session, int]]]]] = {}
        for ev in batch:
            if ev.kind == "created":
                tl = self._event_topics(ev)
                hit = shared.get(id(tl))
                if hit is None or hit[0] is not tl:
                    hit = shared[id(tl)] = (tl, self._matches(ev, tl))
                matches = hit[1]
            else:
                matches = self._matches(ev)
            for full, tt, subs in matches:
                cached = groups.get(id(subs))
                if cached is None or cached[0] is not subs:
                    by_ident: dict[Any, list[tuple[Session, int]]] = {}
                    for s, q in subs.items():
                        by_ident.setdefault(s.identity or ANONYMOUS, []).append((s, q))
                    cached = groups[id(subs)] = (subs, by_ident)
                for ident, members in cached[1].items():
                    keys.setdefault(_render_key(ev, tt, ident), (ev, tt, ident))
                    plan.append((ev, full, tt, ident, members))
        if not plan:
            return
        payloads = await self._render_all(keys)
        per_session: dict[Session, list[Item]] = {}
        sent = 0
        for ev, full, tt, ident, members in plan:
            payload = payloads.get(_render_key(ev, tt, ident))
            if payload is None:
                continue
            pkt: bytes | None = None
            for s, q in members:
                items = per_session.get(s)
                if items is None:
                    items = per_session[s] = []
                if q == 0:
                    if pkt is None:
                        pkt = codec.publish(full, payload)
                    items.append(pkt)
                else:
                    items.append((full, payload, q))
            sent += len(members)
        for s, items in per_session.items():
            s.enqueue_many(items)
        self.notifications += sent
        self._sent_subscriber.inc(sent)

    async def _notify_external(self, batch: list[Event]) -> None:
        """External broker: the plain topic forms, rendered as the anonymous reader sees them."""
        plan = [(ev, t) for ev in batch for t in self._event_topics(ev)]
        keys = {_render_key(ev, t, ANONYMOUS): (ev, t, ANONYMOUS) for ev, t in plan}
        if not keys:
            return
        payloads = await self._render_all(keys)
        for ev, t in plan:
            payload = payloads.get(_render_key(ev, t, ANONYMOUS))
            if payload is not None:
                self.external.publish(t.base, payload)
                self._sent_external.inc()

    async def _render_all(self, keys: dict[tuple[Any, ...], tuple[Event, Topic, Any]]) -> dict[tuple[Any, ...], bytes | None]:
        """Payloads for every render key: one database read per (version, entity set, form, identity)."""
        groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        out: dict[tuple[Any, ...], bytes | None] = {}
        svc = self.sensing
        for k, (ev, t, ident) in keys.items():
            written = _written_observation(ev, t)
            if written is not None:
                # an open Observation created just now: the JSON the POST answered, from the committed values
                try:
                    from urbanos.sensing.service import _observation_json

                    out[k] = orjson.dumps(_observation_json(written, svc.ctx(t.version, ident, self.base_url)))
                    continue
                except Exception as exc:  # noqa: BLE001 - read it back instead
                    log.warning("mqtt: rendering Observation %s from its values failed (%r); reading it", ev.id, exc)
            groups.setdefault((t.version, t.entity_set, t.kind, t.prop, t.select, ident), []).append(k)
        many = getattr(svc, "entity_sync", None) is not None and getattr(svc, "ctx", None) is not None
        for (version, eset, kind, prop, select, ident), ks in groups.items():
            if many:
                try:
                    dicts = await self._read_many(svc, version, eset, [keys[k][0].id for k in ks], ident,
                                                  [prop] if kind == "property" else (list(select) if select else None))
                    for k, d in zip(ks, dicts, strict=True):
                        out[k] = _payload(d, kind, prop)
                    continue
                except UrbanosError:
                    pass
                except Exception as exc:  # noqa: BLE001 - fall back to one read per entity
                    log.warning("mqtt: batched rendering failed (%r); rendering one by one", exc)
            results = await asyncio.gather(*(self._render(*keys[k]) for k in ks), return_exceptions=True)
            for k, r in zip(ks, results, strict=True):
                if isinstance(r, BaseException):
                    if not isinstance(r, UrbanosError):
                        log.error("mqtt: rendering %r failed: %r", k[:5], r)
                    out[k] = None
                else:
                    out[k] = r
        return out

    async def _read_many(self, svc: Any, version: str, eset: str, ids: list[Any], ident: Any,
                         select: list[str] | None) -> list[dict[str, Any] | None]:
        """The SensorThings service's own serialisation, privacy transforms and read audit, for many ids in one
        read transaction (the same steps as an HTTP read)."""
        from urbanos.query.ast import QueryOptions
        from urbanos.sensing.model import BY_SET
        from urbanos.sensing.query import fetch, serialize

        e = BY_SET[eset]
        ctx = svc.ctx(version, ident, self.base_url)
        int_ids = [int(i) for i in ids]
        uniq = sorted(set(int_ids))
        sel = tuple((s,) for s in select) if select else None

        def read(c: Any) -> list[dict[str, Any] | None]:
            # the same fetch (gate filter included) and serialisation as entity_json, for all ids at once
            cond = (f"a.id IN ({', '.join('?' * len(uniq))})", list(uniq))
            rows = fetch(c, e, cond, QueryOptions(top=len(uniq)), ctx)[0]
            outs = serialize(c, e, rows, QueryOptions(select=sel), ctx)
            # as every HTTP read: the gate's privacy transforms, and audit of reads of non-open data
            outs = svc._transform(c, ctx, e, rows, outs)
            svc._observe(c, ctx)
            by_id = {int(r["id"]): o for r, o in zip(rows, outs, strict=True)}
            return [by_id.get(i) for i in int_ids]

        return await svc.db.read(read)  # type: ignore[no-any-return]

    async def _render(self, ev: Event, t: Topic, ident: Any) -> bytes | None:
        svc = self.sensing
        select = [t.prop] if t.kind == "property" else (list(t.select) if t.select else None)
        d = await svc.entity_json(t.version, t.entity_set, ev.id, ident, self.base_url, select=select)
        return _payload(d, t.kind, t.prop)


def _token(password: bytes | None) -> str:
    """The token an MQTT password carries; ValueError when it is not UTF-8 text."""
    return (password or b"").decode("utf-8").strip()


def _figure(obj: Any, name: str) -> Any:
    return lambda: float(getattr(obj, name, 0))


def _payload(d: dict[str, Any] | None, kind: str, prop: str | None) -> bytes | None:
    if d is None:
        return None
    if kind == "property" and prop is not None:
        return orjson.dumps({prop: d.get(prop)})
    return orjson.dumps(d)


def _id(raw: str | None) -> Any:
    if raw is None:
        return None
    return int(raw) if is_ascii_digits(raw) else raw


def _render_key(ev: Event, t: Topic, ident: Any) -> tuple[Any, ...]:
    return (ev.entity, ev.id, t.version, t.kind, t.prop, t.select, ident, id(ev))


def _written_observation(ev: Event, t: Topic) -> dict[str, Any] | None:
    """The values of a created Observation of no dataset (open, no privacy transform), for a plain topic form."""
    if ev.entity != "Observation" or ev.kind != "created" or ev.dataset_id is not None:
        return None
    if t.kind != "collection" or t.select is not None or not isinstance(ev.data, dict):
        return None
    row = ev.data.get("row")
    return row if isinstance(row, dict) else None


def _with_select(t: Topic, full: str, ev: Event) -> Topic | None:
    """The topic ``full`` (``t`` plus an optional $select), or None when it does not hear this event.

    A topic with $select hears an update only when a selected property changed.
    """
    if "?" not in full:
        return t
    try:
        tt = topics.parse(full)
    except BadRequest:
        return None
    if tt.select and ev.kind == "updated" and ev.changed and not set(tt.select) & set(ev.changed):
        return None
    return tt


__all__ = ["MqttService"]
