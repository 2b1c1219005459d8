"""A small synchronous paho-mqtt helper for tests."""

from __future__ import annotations

import queue
import secrets
import threading
from typing import Any

import paho.mqtt.client as mqtt


class Client:
    def __init__(self, port: int, *, host: str = "127.0.0.1", token: str | None = None, transport: str = "tcp",
                 ws_path: str = "/mqtt") -> None:
        self.messages: queue.Queue[tuple[str, bytes, int]] = queue.Queue()
        self.suback: queue.Queue[list[int]] = queue.Queue()
        self.connack: queue.Queue[int] = queue.Queue()
        self.puback: queue.Queue[int] = queue.Queue()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-" + secrets.token_hex(5),
                             protocol=mqtt.MQTTv311, transport=transport)
        if transport == "websockets":
            self.c.ws_set_options(path=ws_path)
        if token is not None:
            self.c.username_pw_set("user", token)
        self.c.on_connect = lambda c, u, f, rc, p=None: self.connack.put(rc.value if hasattr(rc, "value") else int(rc))
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload, m.qos))
        self.c.on_subscribe = lambda c, u, mid, rcs, p=None: self.suback.put(
            [r.value if hasattr(r, "value") else int(r) for r in rcs])
        self.c.on_publish = lambda c, u, mid, rc=None, p=None: self.puback.put(mid)
        self.lock = threading.Lock()
        self.c.connect(host, port, keepalive=30)
        self.c.loop_start()
        self.rc = self.connack.get(timeout=10)

    def subscribe(self, topic: str, qos: int = 0) -> list[int]:
        self.c.subscribe(topic, qos)
        return self.suback.get(timeout=10)

    def publish(self, topic: str, payload: Any, qos: int = 0) -> None:
        info = self.c.publish(topic, payload, qos)
        if qos:
            info.wait_for_publish(10)

    def get(self, timeout: float = 10.0) -> tuple[str, bytes, int]:
        return self.messages.get(timeout=timeout)

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
