"""Notifications: committed SensorThings events rendered as the HTTP API serves them and fanned out to subscribers.

Each payload is rendered once per (event, topic form, identity) through the SensorThings service (so the payload
is the HTTP JSON, and the gate decides visibility, applies privacy transforms and audits reads) and encoded once
per topic name; each session gets everything of one batch of events in one enqueue. Deliveries are counted in
memory per dataset and identity, for the usage statistics (:meth:`Notifier.take_deliveries`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.errors import BadRequest, UrbanosError
from urbanos.events import Event
from urbanos.governance.identity import ANONYMOUS
from urbanos.sensing.model import EXTENSIONS
from urbanos.sensing.mqtt import codec, topics
from urbanos.sensing.mqtt.broker import Broker, Item, Session
from urbanos.sensing.mqtt.topics import Topic
from urbanos.sensing.serialize import observation_json

if TYPE_CHECKING:
    from prometheus_client import Counter

    from urbanos.governance import Identity
    from urbanos.ports import SensingPort
    from urbanos.sensing.mqtt.external import ExternalLink

log = logging.getLogger("urbanos.mqtt")

Match = tuple[str, Topic, dict[Session, int]]
"""A subscription that hears an event: topic name, topic form, subscribed session -> QoS."""
RenderKey = tuple[Any, ...]


class Notifier:
    def __init__(self, broker: Broker, sensing: SensingPort, base_url: str, sent: Counter) -> None:
        self.broker = broker
        self.sensing = sensing
        self.base_url = base_url
        self.external: ExternalLink | None = None
        self.notifications = 0
        # entity topic -> subscribed navigation filters that lead to it (v1.1/Datastreams(1)/Thing …)
        self.aliases: dict[str, set[str]] = {}
        self._topic_cache: dict[tuple[Any, ...], list[Topic]] = {}
        self._sent_subscriber = sent.labels("subscriber")
        self._sent_external = sent.labels("external")
        # (dataset id, identity) -> notifications delivered since the last take_deliveries()
        self.deliveries: dict[tuple[int | None, Identity], int] = {}

    def take_deliveries(self) -> dict[tuple[int | None, Identity], int]:
        """The deliveries counted since the last call (and start counting afresh)."""
        out, self.deliveries = self.deliveries, {}
        return out

    # -- which subscriptions hear an event -------------------------------------------------------
    def event_topics(self, ev: Event) -> list[Topic]:
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

    def matches(self, ev: Event, tl: list[Topic] | None = None) -> list[Match]:
        """(topic name, topic form, subscribed session -> QoS) for every subscription that hears ``ev``.

        A session hears each topic name once, at the highest QoS of its matching subscriptions (3.3.5).
        """
        b = self.broker
        out: list[Match] = []
        for t in self.event_topics(ev) if tl is None else tl:
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
            merged: dict[str, Match] = {}
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

    # -- one batch of events ---------------------------------------------------------------------
    async def notify(self, batch: list[Event]) -> None:
        if self.external is not None:
            await self._notify_external(batch)
            return
        # Each payload is rendered once per (event, topic form, identity) and encoded once per topic name;
        # each session gets everything for this batch in one enqueue.
        plan: list[tuple[Event, str, Topic, Identity, list[tuple[Session, int]]]] = []
        keys: dict[RenderKey, tuple[Event, Topic, Identity]] = {}
        groups: dict[int, tuple[dict[Session, int], dict[Identity, list[tuple[Session, int]]]]] = {}
        # creates with the same links share their topic list, and their matches do not depend on the event
        shared: dict[int, tuple[list[Topic], list[Match]]] = {}
        for ev in batch:
            if ev.kind == "created":
                tl = self.event_topics(ev)
                hit = shared.get(id(tl))
                if hit is None or hit[0] is not tl:
                    hit = shared[id(tl)] = (tl, self.matches(ev, tl))
                matches = hit[1]
            else:
                matches = self.matches(ev)
            for full, tt, subs in matches:
                cached = groups.get(id(subs))
                if cached is None or cached[0] is not subs:
                    by_ident: dict[Identity, list[tuple[Session, int]]] = {}
                    for s, q in subs.items():
                        by_ident.setdefault(s.identity or ANONYMOUS, []).append((s, q))
                    cached = groups[id(subs)] = (subs, by_ident)
                for ident, members in cached[1].items():
                    keys.setdefault(_render_key(ev, tt, ident), (ev, tt, ident))
                    plan.append((ev, full, tt, ident, members))
        if not plan:
            return
        payloads = await self._render_all(keys)
        self._deliver(plan, payloads)

    def _deliver(self, plan: list[tuple[Event, str, Topic, Identity, list[tuple[Session, int]]]],
                 payloads: dict[RenderKey, bytes | None]) -> None:
        per_session: dict[Session, list[Item]] = {}
        deliveries = self.deliveries
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
            n = len(members)
            sent += n
            key = (ev.dataset_id, ident)
            deliveries[key] = deliveries.get(key, 0) + n
        for s, items in per_session.items():
            s.enqueue_many(items)
        self.notifications += sent
        self._sent_subscriber.inc(sent)

    async def _notify_external(self, batch: list[Event]) -> None:
        """External broker: the plain topic forms, rendered as the anonymous reader sees them."""
        assert self.external is not None
        plan = [(ev, t) for ev in batch for t in self.event_topics(ev)]
        keys = {_render_key(ev, t, ANONYMOUS): (ev, t, ANONYMOUS) for ev, t in plan}
        if not keys:
            return
        payloads = await self._render_all(keys)
        for ev, t in plan:
            payload = payloads.get(_render_key(ev, t, ANONYMOUS))
            if payload is not None:
                self.external.publish(t.base, payload)
                self._sent_external.inc()

    # -- payloads --------------------------------------------------------------------------------
    async def _render_all(self, keys: dict[RenderKey, tuple[Event, Topic, Identity]]) -> dict[RenderKey, bytes | None]:
        """Payloads for every render key: one database read per (version, entity set, form, identity)."""
        groups: dict[tuple[Any, ...], list[RenderKey]] = {}
        out: dict[RenderKey, bytes | None] = {}
        for k, (ev, t, ident) in keys.items():
            written = _written_observation(ev, t)
            if written is not None:
                # an open Observation created just now: the JSON the POST answered, from the committed values
                try:
                    out[k] = orjson.dumps(observation_json(written, t.version, self.base_url, EXTENSIONS))
                    continue
                except Exception as exc:  # noqa: BLE001 - read it back instead
                    log.warning("mqtt: rendering Observation %s from its values failed (%r); reading it", ev.id, exc)
            groups.setdefault((t.version, t.entity_set, t.kind, t.prop, t.select, ident), []).append(k)
        for (version, eset, kind, prop, select, ident), ks in groups.items():
            try:
                dicts = await self.sensing.entities_json(
                    version, eset, [int(keys[k][0].id) for k in ks], ident, self.base_url,
                    [prop] if kind == "property" and prop else (list(select) if select else None))
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

    async def _render(self, ev: Event, t: Topic, ident: Identity) -> bytes | None:
        select = [t.prop] if t.kind == "property" and t.prop else (list(t.select) if t.select else None)
        d = await self.sensing.entity_json(t.version, t.entity_set, ev.id, ident, self.base_url, select=select)
        return _payload(d, t.kind, t.prop)


def _payload(d: dict[str, Any] | None, kind: str, prop: str | None) -> bytes | None:
    if d is None:
        return None
    if kind == "property" and prop is not None:
        return orjson.dumps({prop: d.get(prop)})
    return orjson.dumps(d)


def _render_key(ev: Event, t: Topic, ident: Identity) -> RenderKey:
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


__all__ = ["Notifier", "Match"]
