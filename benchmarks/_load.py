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
