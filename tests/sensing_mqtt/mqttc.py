"""A small synchronous paho-mqtt helper for tests."""

from __future__ import annotations

import json
import queue
import secrets
import threading
from typing import Any

import paho.mqtt.client as mqtt


class Client:
    def __init__(self, port: int, *, host: str = "127.0.0.1", token: str | None = None, transport: str = "tcp",
                 ws_path: str = "/mqtt", client_id: str | None = None, clean: bool = True) -> None:
        self.messages: queue.Queue[tuple[str, bytes, int]] = queue.Queue()
        self.suback: queue.Queue[list[int]] = queue.Queue()
        self.connack: queue.Queue[int] = queue.Queue()
        self.puback: queue.Queue[int] = queue.Queue()
        self.retain_flags: list[bool] = []
        self.session_present: bool | None = None
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or "t-" + secrets.token_hex(5),
                             protocol=mqtt.MQTTv311, transport=transport, clean_session=clean)
        if transport == "websockets":
            self.c.ws_set_options(path=ws_path)
        if token is not None:
            self.c.username_pw_set("user", token)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda c, u, mid, rcs, p=None: self.suback.put(
            [r.value if hasattr(r, "value") else int(r) for r in rcs])
        self.c.on_publish = lambda c, u, mid, rc=None, p=None: self.puback.put(mid)
        self.lock = threading.Lock()
        self.c.connect(host, port, keepalive=30)
        self.c.loop_start()
        self.rc = self.connack.get(timeout=10)

    def _on_connect(self, c: Any, u: Any, flags: Any, rc: Any, p: Any = None) -> None:
        self.session_present = bool(getattr(flags, "session_present", False))
        self.connack.put(rc.value if hasattr(rc, "value") else int(rc))

    def _on_message(self, c: Any, u: Any, m: Any) -> None:
        self.retain_flags.append(bool(m.retain))
        self.messages.put((m.topic, m.payload, m.qos))

    def subscribe(self, topic: str, qos: int = 0) -> list[int]:
        self.c.subscribe(topic, qos)
        return self.suback.get(timeout=10)

    def publish(self, topic: str, payload: Any, qos: int = 0, retain: bool = False) -> None:
        info = self.c.publish(topic, payload, qos, retain)
        if qos:
            info.wait_for_publish(10)

    def get(self, timeout: float = 10.0) -> tuple[str, bytes, int]:
        return self.messages.get(timeout=timeout)

    def collect(self, n: int) -> dict[str, Any]:
        """The next ``n`` messages as {topic: decoded JSON payload}."""
        out: dict[str, Any] = {}
        for _ in range(n):
            topic, payload, _q = self.get()
            out[topic] = json.loads(payload)
        return out

    def none(self, wait: float = 0.5) -> bool:
        try:
            self.messages.get(timeout=wait)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
