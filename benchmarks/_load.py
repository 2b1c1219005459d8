"""A small keep-alive HTTP/1.1 load generator on raw asyncio sockets (loopback only).

It is lighter than an HTTP client library, so the server, not the client, is measured.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def p99_ms(self) -> float:
        if not self.latencies:
            return float("nan")
        s = sorted(self.latencies)
        return s[min(len(s) - 1, int(len(s) * 0.99))] * 1000


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in head.split(b"\r\n"):
        low = line.lower()
        if low.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
        elif low.startswith(b"transfer-encoding:") and b"chunked" in low:
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _worker(host: str, port: int, requests: list[bytes], out: list[float], errs: list[int], stop_at: float) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        i = 0
        while time.perf_counter() < stop_at:
            req = requests[i % len(requests)]
            i += 1
            t0 = time.perf_counter()
            writer.write(req)
            status = await _read_response(reader)
            out.append(time.perf_counter() - t0)
            if status >= 400:
                errs.append(status)
    finally:
        writer.close()


def build_request(method: str, path: str, host: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def run_load(host: str, port: int, requests: list[bytes], *, concurrency: int = 8, seconds: float = 5.0) -> Result:
    async def main() -> Result:
        lat: list[float] = []
        errs: list[int] = []
        t0 = time.perf_counter()
        stop_at = t0 + seconds
        await asyncio.gather(*(_worker(host, port, requests, lat, errs, stop_at) for _ in range(concurrency)))
        return Result(len(lat), time.perf_counter() - t0, lat, len(errs))

    return asyncio.run(main())


def print_results(heading: str, rows: list[tuple[str, Result]], width: int) -> None:
    """One line per measured load: rate, p50, p99 and errors."""
    print(f"{heading:<{width}} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, r in rows:
        print(f"{name:<{width}} {r.rate:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.errors:>7}")


async def _paced_worker(host: str, port: int, requests: list[bytes], slots: list[int], rate: float, t0: float,
                        stop_at: float, out: list[float], errs: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            k = slots[0]
            slots[0] += 1
            due = t0 + k / rate
            if due >= stop_at:
                return
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(requests[k % len(requests)])
            status = await _read_response(reader)
            out.append(time.perf_counter() - due)  # from when it was due: waiting for a free connection counts
            if status >= 400:
                errs.append(status)
    finally:
        writer.close()


def run_paced(host: str, port: int, requests: list[bytes], *, rate: float, concurrency: int = 16,
              seconds: float = 5.0) -> Result:
    """Offer ``rate`` requests a second (request k is due at k/rate) over ``concurrency`` keep-alive connections for
    ``seconds``. Latencies count from when each request was due, so a server that falls behind shows it as latency
    (and as an achieved rate below the offered one) instead of being offered less."""
    async def main() -> Result:
        lat: list[float] = []
        errs: list[int] = []
        slots = [0]
        t0 = time.perf_counter()
        stop_at = t0 + seconds
        await asyncio.gather(*(_paced_worker(host, port, requests, slots, rate, t0, stop_at, lat, errs)
                               for _ in range(concurrency)))
        return Result(len(lat), max(seconds, time.perf_counter() - t0), lat, len(errs))

    return asyncio.run(main())
