"""``urbanos serve --workers N``: N server processes on one port.

The parent migrates the database once, binds the HTTP port once and starts N worker processes that accept on that
shared socket (the kernel hands each new connection to one of them). Worker 0 also runs the embedded MQTT broker's
TCP listener, so MQTT sessions (persistent ones and their queued messages) and retained messages live in one
process; every worker serves MQTT over WebSockets at ``/mqtt`` for clean sessions. What one worker writes reaches the
others through the event bus, which must cross processes: on PostgreSQL the ``memory`` bus is replaced by
``postgres`` (LISTEN/NOTIFY); on SQLite a ``redis://`` bus is needed. A worker that dies is started again (after a
pause that grows while it keeps dying); Ctrl+C or SIGTERM stops them all gracefully.

With the setting ``health_port`` the parent, which serves no requests and so is never busy, runs the health
listener (:mod:`urbanos.web.probes`) and answers for its workers: /healthz lists them, /readyz is 200 while at
least one live worker has a fresh successful readiness check (each worker writes its results to a slot of shared
memory). Per-worker listeners on one port (SO_REUSEPORT) would answer for whichever worker the kernel picked.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from typing import TYPE_CHECKING, Any

import uvicorn

from urbanos.errors import ConfigError
from urbanos.platform import Platform
from urbanos.plugins import load_components
from urbanos.web.app import create_app
from urbanos.web.logs import configure_logging
from urbanos.web.probes import ProbeServer, SharedReadiness, WorkersHealth

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from urbanos.settings import Settings

log = logging.getLogger("urbanos.workers")
RESTART_PAUSE = (0.5, 30.0)  # seconds before a dead worker is started again: first, at most
SLOT_BYTES = 4096  # a worker's readiness result in shared memory


def worker_settings(settings: Settings, workers: int) -> Settings:
    """The settings every worker runs with: a bus that crosses processes (or a clear refusal)."""
    if workers < 1:
        raise ConfigError("--workers: at least 1. Fix: give the number of server processes, e.g. --workers 4.")
    if workers == 1:
        return settings
    bus = str(settings.get("bus", "memory"))
    if bus == "memory":
        if str(settings.db).startswith(("postgresql://", "postgres://")):
            return settings.replace(bus="postgres")
        raise ConfigError(
            "--workers needs an event bus that crosses processes, so that what one worker writes reaches the others' "
            "subscribers and caches. Fix: run on PostgreSQL (--db postgresql://…; its LISTEN/NOTIFY bus is chosen for "
            "you), or set bus to a redis:// URL (URBANOS_BUS=redis://127.0.0.1:6379/0).")
    return settings


def listen(host: str, port: int, backlog: int = 2048) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def _worker(settings: Settings, index: int, sock: socket.socket, slot: Any) -> None:  # pragma: no cover - a child
    """One worker: build the app (the database is migrated already) and serve on the shared socket; its readiness
    results go to ``slot`` for the parent's health listener."""
    configure_logging(settings.log_level, settings.log_format)
    if index > 0 and "mqtt_port" in settings.registry:
        settings = settings.replace(mqtt_port=0)  # worker 0 holds the MQTT sessions
    state = SharedReadiness(slot) if int(settings.health_port) else None
    app = create_app(settings.replace(health_port=0), readiness_state=state)  # the parent listens
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", proxy_headers=False,
                            server_header=False, timeout_graceful_shutdown=5, ws="websockets-sansio")
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Starts, watches and stops the workers."""

    def __init__(self, settings: Settings, workers: int, sock: socket.socket) -> None:
        self.settings, self.count, self.sock = settings, workers, sock
        self.ctx = multiprocessing.get_context("spawn")
        self.procs: dict[int, BaseProcess] = {}
        self.pause: dict[int, float] = {}
        self.stopping = False
        self.slots = [self.ctx.Array("c", SLOT_BYTES) for _ in range(workers)]
        self.health: ProbeServer | None = None

    def start(self, index: int) -> None:
        proc = self.ctx.Process(target=_worker, args=(self.settings, index, self.sock, self.slots[index]),
                                name=f"urbanos-worker-{index}")
        proc.start()
        self.procs[index] = proc
        log.info("worker %d started (pid %s)", index, proc.pid)

    def stop(self, *_: Any) -> None:
        self.stopping = True

    def workers(self) -> dict[int, tuple[int | None, bool, Any]]:
        """index -> (pid, alive, readiness slot), for the health listener."""
        return {i: (proc.pid, proc.is_alive(), self.slots[i]) for i, proc in list(self.procs.items())}

    def run(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.stop)
        port = int(self.settings.health_port)
        if port:
            self.health = ProbeServer(str(self.settings.host), port, WorkersHealth(self.workers).answer).start()
        for i in range(self.count):
            self.start(i)
        started = {i: time.monotonic() for i in self.procs}
        while not self.stopping:
            time.sleep(0.2)
            for i, proc in list(self.procs.items()):
                if proc.is_alive() or self.stopping:
                    continue
                lived = time.monotonic() - started[i]
                pause = RESTART_PAUSE[0] if lived > 60 else min(self.pause.get(i, RESTART_PAUSE[0]) * 2, RESTART_PAUSE[1])
                self.pause[i] = pause
                log.warning("worker %d (pid %s) exited with %s; starting it again in %.1f s", i, proc.pid,
                            proc.exitcode, pause)
                time.sleep(pause)
                if not self.stopping:
                    self.start(i)
                    started[i] = time.monotonic()
        self.shutdown()

    def shutdown(self) -> None:
        if self.health is not None:
            self.health.close()
            self.health = None
        for proc in self.procs.values():
            if proc.is_alive() and proc.pid is not None:
                proc.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            proc.join(max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(1)
        self.sock.close()


def serve_workers(settings: Settings, workers: int) -> None:
    """Migrate once, then run ``workers`` server processes on the one port until stopped."""
    settings = worker_settings(settings, workers)
    platform = Platform.build(settings, load_components())
    platform.open()  # migrations run here, once, before any worker starts
    platform.close()
    sock = listen(settings.host, int(settings.port))
    Supervisor(settings, workers, sock).run()


__all__ = ["serve_workers", "worker_settings", "Supervisor", "listen"]
