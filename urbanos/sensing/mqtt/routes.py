"""MQTT over WebSocket at /mqtt (subprotocol "mqtt"), bridged to the embedded or the external broker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

if TYPE_CHECKING:
    from urbanos.sensing.mqtt.service import MqttService

log = logging.getLogger("urbanos.mqtt")


class WsConn:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        client = ws.client
        self.peer = f"ws:{client.host}:{client.port}" if client else "ws"

    async def read(self) -> bytes:
        while True:
            try:
                msg = await self.ws.receive()
            except (WebSocketDisconnect, RuntimeError):
                return b""
            if msg["type"] == "websocket.disconnect":
                return b""
            data = msg.get("bytes")
            if data is None:
                text = msg.get("text")
                data = text.encode("utf-8") if text else b""
            if data:
                return bytes(data)

    async def write(self, data: bytes) -> None:
        await self.ws.send_bytes(data)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()


def _subprotocol(ws: WebSocket) -> str | None:
    offered = ws.scope.get("subprotocols") or []
    for p in ("mqtt", "mqttv3.1"):
        if p in offered:
            return p
    return None


async def _proxy(conn: WsConn, host: str, port: int) -> None:
    """External mode: pass the client's MQTT bytes through to the external broker."""
    reader, writer = await asyncio.open_connection(host, port)

    async def up() -> None:
        while True:
            data = await conn.read()
            if not data:
                break
            writer.write(data)
            await writer.drain()

    async def down() -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            await conn.write(data)

    tasks = [asyncio.ensure_future(up()), asyncio.ensure_future(down())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        writer.close()


def add_routes(app: Any, service: MqttService) -> None:
    async def mqtt_ws(ws: WebSocket) -> None:
        await ws.accept(subprotocol=_subprotocol(ws))
        conn = WsConn(ws)
        try:
            if service.external is not None:
                await _proxy(conn, service.external.host, service.external.port)
            else:
                await service.broker.serve_conn(conn)
        except (OSError, ConnectionError) as exc:
            log.info("mqtt: websocket client %s: %s", conn.peer, exc)
        finally:
            await conn.close()

    app.router.add_websocket_route("/mqtt", mqtt_ws)


__all__ = ["add_routes"]
