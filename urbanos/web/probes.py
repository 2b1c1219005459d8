"""The health listener (setting ``health_port``): ``GET /healthz`` and ``GET /readyz`` on a port of their own,
answered by a plain blocking socket server in threads of its own, not on the event loop.

The main port's probes share the event loop with the requests being served, so under heavy load they wait for
whatever runs on the loop. A thread that blocks in ``accept()`` holds no interpreter lock; when a probe connects
it gets the lock within a switch interval (``sys.getswitchinterval()``, 5 ms) and answers from memory:

- ``/healthz``: the process is alive (the same body as the main port's, from memory);
- ``/readyz``: the result of the last readiness check (:func:`urbanos.storage.readiness`), which a task on the
  event loop repeats every second (:func:`keep_fresh`). A result older than ``FRESH_FOR`` seconds is no
  answer: 503 ``no_fresh_readiness`` (the loop or the database check is stuck, which is what readiness is for).

Everything else on the port is 404. With ``urbanos serve --workers N`` the listener runs in the supervising parent
(:class:`urbanos.cli.workers.Supervisor`), which reports its workers: each worker writes its readiness results to
a slot of shared memory (:class:`SharedReadiness`), and the parent answers ready while at least one worker that is
alive has a fresh successful check (the kernel hands new connections to the workers that accept them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from urbanos import __version__
from urbanos.errors import ConfigError
from urbanos.storage import DOWN, Database, readiness

log = logging.getLogger("urbanos.health")

FRESH_FOR = 5.0  # seconds a readiness result is an answer
REFRESH_EVERY = 1.0  # seconds between readiness checks
STALE = "no_fresh_readiness"
PATHS = ("/healthz", "/readyz")
Answer = Callable[[str], tuple[int, bytes]]  # path -> (status, JSON body)

_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed", 503: b"Service Unavailable"}


class Readiness:
    """The last readiness check's result and when it was made (``time.monotonic()``: one clock for every process
    of the machine)."""

    def __init__(self) -> None:
        self.result: dict[str, Any] | None = None
        self.at = 0.0

    def record(self, result: dict[str, Any]) -> None:
        self.result, self.at = result, time.monotonic()

    def latest(self) -> tuple[dict[str, Any] | None, float]:
        """(the result, its age in seconds); None when there is none or it is older than ``FRESH_FOR``."""
        result, at = self.result, self.at
        age = time.monotonic() - at
        return (result if result is not None and age <= FRESH_FOR else None), age


class SharedReadiness(Readiness):
    """A worker's readiness results in a slot of shared memory (a ``multiprocessing`` character array), which the
    supervising parent reads."""

    def __init__(self, slot: Any) -> None:
        super().__init__()
        self.slot = slot

    def record(self, result: dict[str, Any]) -> None:
        super().record(result)
        text = orjson.dumps({"at": self.at, "pid": os.getpid(), "result": result})
        if len(text) >= len(self.slot):  # a long message: keep the verdict and the reasons
            result = {"status": result.get("status"), "checks": {k: {"status": v.get("status"), "reason": v.get("reason")}
                                                                 for k, v in result.get("checks", {}).items()}}
            text = orjson.dumps({"at": self.at, "pid": os.getpid(), "result": result})[: len(self.slot) - 1]
        with self.slot.get_lock():
            self.slot.value = text

    @staticmethod
    def read(slot: Any) -> tuple[dict[str, Any] | None, float, int | None]:
        """(the result, its age, the worker's pid) of a slot; (None, inf, None) when nothing (whole) is there."""
        with slot.get_lock():
            text = slot.value
        try:
            data = orjson.loads(text)
            age = time.monotonic() - float(data["at"])
            return data["result"], age, int(data["pid"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None, float("inf"), None


def _failure(exc: BaseException) -> dict[str, Any]:
    return {"status": "error", "checks": {"database": {"status": "error", "reason": DOWN,
                                                       "message": f"The readiness check failed ({type(exc).__name__})."}}}


async def keep_fresh(db: Database, state: Readiness, every: float = REFRESH_EVERY) -> None:
    """Check readiness every ``every`` seconds and record the result, until cancelled."""
    while True:
        try:
            result = await readiness(db, timeout=1.0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the check is a failing check
            result = _failure(exc)
        state.record(result)
        await asyncio.sleep(every)


def _reasons(result: dict[str, Any]) -> list[str]:
    return sorted({str(c.get("reason") or "failing") for c in result.get("checks", {}).values()
                   if c.get("status") != "ok"})


def _stale(age: float) -> dict[str, Any]:
    when = "never" if age == float("inf") or age > 1e8 else f"{age:.1f} s ago"
    return {"status": "error", "reason": STALE, "message": f"No fresh readiness: the last check was {when} (a check "
            f"is made every {REFRESH_EVERY:g} s and answers for {FRESH_FOR:g} s)."}


def _json(status: int, body: dict[str, Any]) -> tuple[int, bytes]:
    return status, orjson.dumps(body)


class ProcessHealth:
    """The answers of one server process: ``alive`` (the main port's /healthz body) and its readiness state."""

    def __init__(self, alive: bytes, state: Readiness) -> None:
        self.alive, self.state = alive, state

    def answer(self, path: str) -> tuple[int, bytes]:
        if path == "/healthz":
            return 200, self.alive
        result, age = self.state.latest()
        if result is None:
            return _json(503, {**_stale(age), "version": __version__})
        body = {**result, "version": __version__, "checked_seconds_ago": round(age, 3)}
        return _json(200 if result.get("status") == "ok" else 503, body)


class WorkersHealth:
    """The supervising parent's answers: alive, with its workers (``workers()``: index -> (pid, alive, slot))."""

    def __init__(self, workers: Callable[[], dict[int, tuple[int | None, bool, Any]]]) -> None:
        self.workers = workers

    def answer(self, path: str) -> tuple[int, bytes]:
        seen = self.workers()
        if path == "/healthz":
            listed = [{"index": i, "pid": pid, "alive": alive} for i, (pid, alive, _) in sorted(seen.items())]
            return _json(200, {"status": "ok", "version": __version__, "pid": os.getpid(), "workers": listed})
        rows: list[dict[str, Any]] = []
        ready, reasons = 0, set()
        for i, (pid, alive, slot) in sorted(seen.items()):
            result, age, reported = SharedReadiness.read(slot)
            fresh = alive and result is not None and age <= FRESH_FOR and reported == pid
            row: dict[str, Any] = {"index": i, "pid": pid, "alive": alive}
            if not fresh:
                row.update(_stale(age) if alive else {"status": "error", "reason": "worker_down"})
                reasons.add(row["reason"])
            else:
                row.update(result or {}, checked_seconds_ago=round(age, 3))
                ready += row.get("status") == "ok"
                reasons.update(_reasons(row) if row.get("status") != "ok" else ())
            rows.append(row)
        body: dict[str, Any] = {"status": "ok" if ready else "error", "version": __version__, "ready_workers": ready,
                                "workers": rows}
        if not ready:
            body["reasons"] = sorted(reasons)
        return _json(200 if ready else 503, body)


def _complete(data: bytes) -> bool:
    return b"\r\n\r\n" in data or b"\n\n" in data


def _response(status: int, body: bytes, head: bool = False, extra: bytes = b"") -> bytes:
    top = (b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nCache-Control: no-store\r\n"
           b"X-Content-Type-Options: nosniff\r\n%sConnection: close\r\n\r\n") % (status, _REASONS[status], len(body), extra)
    return top if head else top + body


class ProbeServer:
    """A blocking listener on ``host:port``: one thread accepts, ``threads`` answer; a connection beyond
    ``threads + queued`` waiting is closed at once (bounded threads, bounded memory). Each connection gets one
    answer (``Connection: close``) within ``timeout`` seconds of reading."""

    def __init__(self, host: str, port: int, answer: Answer, *, threads: int = 2, queued: int = 16,
                 timeout: float = 2.0) -> None:
        self.answer, self.timeout = answer, timeout
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except (OSError, OverflowError) as exc:
            self.sock.close()
            why = exc.strerror if isinstance(exc, OSError) else "not a port"
            raise ConfigError(f"setting health_port: cannot listen on {host}:{port} ({why}). Fix: choose a "
                              "free port, or 0 to turn the health listener off.") from exc
        if hasattr(socket, "TCP_DEFER_ACCEPT"):  # accept() returns once the request has arrived (Linux)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1)
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.slots = threading.BoundedSemaphore(threads + queued)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="urbanos-health")
        self.closing = False
        self.thread = threading.Thread(target=self._accept, name="urbanos-health-listener", daemon=True)

    def start(self) -> ProbeServer:
        self.thread.start()
        return self

    def _accept(self) -> None:
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                if self.closing:
                    return
                time.sleep(0.01)  # out of descriptors, say: try again shortly
                continue
            first = self._at_once(conn)
            if first is None:
                continue
            if not self.slots.acquire(blocking=False):
                conn.close()
                continue
            try:
                self.pool.submit(self._handle, conn, first)
            except RuntimeError:  # the pool was shut down meanwhile
                self.slots.release()
                conn.close()

    def _at_once(self, conn: socket.socket) -> bytes | None:
        """Answer in the accepting thread when the whole request is there already (a probe's usually is: one
        packet, and accept() waited for it), which saves handing the connection to another thread (each hand-over
        waits for the interpreter lock again). None when answered; else what was read so far, for the pool."""
        try:
            data = conn.recv(8192, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return b""
        except OSError:
            conn.close()
            return None
        if data and not _complete(data):
            return data
        try:
            conn.settimeout(self.timeout)
            conn.sendall(self._reply(conn, data, more=False))
        except OSError:
            pass
        finally:
            conn.close()
        return None

    def _handle(self, conn: socket.socket, first: bytes) -> None:
        try:
            conn.settimeout(self.timeout)
            conn.sendall(self._reply(conn, first))
        except OSError:
            pass
        finally:
            conn.close()
            self.slots.release()

    def _reply(self, conn: socket.socket, data: bytes, *, more: bool = True) -> bytes:
        while more and not _complete(data) and len(data) < 8192:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        parts = data.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            return _response(400, b'{"status":"error","message":"Not an HTTP/1 request."}')
        method, path = parts[0], parts[1].split(b"?", 1)[0].decode("latin-1")
        if path not in PATHS:
            return _response(404, b'{"status":"error","message":"Only /healthz and /readyz are served on this port."}',
                             method == b"HEAD")
        if method not in (b"GET", b"HEAD"):
            return _response(405, b'{"status":"error","message":"Use GET."}', extra=b"Allow: GET, HEAD\r\n")
        status, body = self.answer(path)
        return _response(status, body, method == b"HEAD")

    def close(self) -> None:
        """Stop accepting, free the port and let the answers in progress finish."""
        self.closing = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self.sock.close()
        self.thread.join(5)
        self.pool.shutdown(wait=True, cancel_futures=True)


class LocalHealth:
    """The health listener of one server process (``urbanos serve``) and the readiness task that keeps its answer
    fresh; with ``state`` given (a worker's :class:`SharedReadiness`) only the task runs, for the parent."""

    def __init__(self, db: Database, host: str, port: int, alive: bytes, state: Readiness | None = None) -> None:
        self.db, self.host, self.port, self.alive = db, host, port, alive
        self.state = state if state is not None else Readiness()
        self.server: ProbeServer | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def wanted(self) -> bool:
        return self.port > 0 or isinstance(self.state, SharedReadiness)

    async def start(self) -> None:
        if not self.wanted:
            return
        if self.port > 0:
            self.server = ProbeServer(self.host, self.port, ProcessHealth(self.alive, self.state).answer).start()
            log.info("health listener on %s:%d (/healthz, /readyz)", self.host, self.server.port)
        self.task = asyncio.create_task(keep_fresh(self.db, self.state), name="urbanos-readiness")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        if self.server is not None:
            await asyncio.to_thread(self.server.close)
            self.server = None


__all__ = ["ProbeServer", "Readiness", "SharedReadiness", "ProcessHealth", "WorkersHealth", "LocalHealth",
           "keep_fresh", "FRESH_FOR", "REFRESH_EVERY", "STALE", "PATHS"]
