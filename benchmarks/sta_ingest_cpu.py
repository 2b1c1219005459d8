"""Server CPU time per single-Observation POST, beside the CPU time per ``/healthz`` request, in one run.

Wall-clock rates swing with other work on a shared machine; the CPU time the server process spends per request
(read from /proc, all its threads) moves much less, so this is the figure to compare two versions of the code:

    python benchmarks/sta_ingest_cpu.py [--posts 3000] [--ref /tmp/old-checkout] [--rounds 3]

``--ref`` runs the same measurement against another checkout of urbanos (for example a ``git worktree`` of an
earlier commit), alternating with this one, so that both see the same machine. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port, launch, wait  # noqa: E402
from sta_ingest import TOKEN, setup_stream  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def send(url: str, n: int, body: dict[str, object] | None) -> None:
    """``n`` requests from 8 concurrent clients: POST ``body`` to Observations, or GET /healthz when None."""
    sem = asyncio.Semaphore(8)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
        async def one() -> None:
            async with sem:
                if body is None:
                    r = await client.get(f"{url}/healthz")
                else:
                    r = await client.post(f"{url}/sta/v1.1/Observations", json=body)
                if r.status_code >= 300:
                    raise RuntimeError(f"{r.status_code}: {r.text[:200]}")
        await asyncio.gather(*(one() for _ in range(n)))


def measure(checkout: str, posts: int) -> tuple[float, float]:
    """(µs of server CPU per POST, per /healthz) of the urbanos in ``checkout``."""
    env = {"URBANOS_ADMIN_TOKEN": TOKEN}
    if checkout:
        os.environ["PYTHONPATH"] = checkout
    else:
        os.environ.pop("PYTHONPATH", None)
    port = free_port()
    proc = launch(port, tempfile.mkdtemp(prefix="urbanos-bench-"), env=env, cwd=checkout or None)
    try:
        url = f"http://127.0.0.1:{port}"
        wait(f"{url}/healthz")
        ds = setup_stream(url)
        body = {"result": 1, "phenomenonTime": "2024-01-01T00:00:00Z", "Datastream": {"@iot.id": ds}}
        asyncio.run(send(url, 300, body))  # warm up
        c0 = cpu_seconds(proc.pid)
        asyncio.run(send(url, posts, body))
        c1 = cpu_seconds(proc.pid)
        asyncio.run(send(url, posts, None))
        c2 = cpu_seconds(proc.pid)
        return (c1 - c0) / posts * 1e6, (c2 - c1) / posts * 1e6
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ref", default="", help="another urbanos checkout to measure alternately")
    args = ap.parse_args()
    runs: dict[str, list[tuple[float, float]]] = {"this checkout": []}
    if args.ref:
        runs[f"ref {args.ref}"] = []
    for _ in range(args.rounds):
        for name in runs:
            runs[name].append(measure(args.ref if name.startswith("ref ") else "", args.posts))
    print(f"{'server CPU per request (µs, median of rounds)':48} {'POST Observation':>17} {'GET /healthz':>13}")
    for name, values in runs.items():
        post = statistics.median(v[0] for v in values)
        health = statistics.median(v[1] for v in values)
        print(f"{name[:48]:48} {post:17.0f} {health:13.0f}")
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
