"""What the alert engine costs ingest: single-Observation POSTs against a live ``urbanos serve`` (SQLite unless --db
is given), without alert rules and with 100 rules on the posted Datastreams, in one run.

By default the POSTs are offered at a fixed rate (``--rate``, 500 a second: request k is due at k/rate, over 16
connections), and each phase prints the rate achieved and the latency from when each request was due; the slowdown is
the relative change of the p50 latency and of the server's CPU per POST with the rules. ``--rate 0`` measures the
greatest rate instead (8 clients posting as fast as they can).

The phases alternate (without rules, with rules, without, with: the rules are switched off and on with
``PATCH {"enabled": …}``), so that the database's growth and the machine's other work weigh on both alike; each
figure is the mean of its two phases. The rules are threshold rules with hysteresis and a staleness each, spread
over the 4 posted Datastreams; 5 of them fire and resolve as the posted values cycle (an MQTT notification each),
the others never fire, as most rules most of the time.

    python benchmarks/alerts.py [--rate 500] [--seconds 5] [--concurrency 16] [--rules 100] [--db postgresql://…]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _load import Result, build_request, print_results, run_load, run_paced  # noqa: E402
from http_baseline import free_port, launch, wait  # noqa: E402

TOKEN = "bench-admin-token-0123456789"
H = {"Authorization": f"Bearer {TOKEN}"}
STREAMS = 4


def setup_streams(url: str, n: int) -> list[int]:
    out = []
    for i in range(n):
        thing = {
            "name": f"Bench {i}", "description": "benchmark",
            "Locations": [{"name": "here", "description": "x", "encodingType": "application/geo+json",
                           "location": {"type": "Point", "coordinates": [144.96, -37.81]}}],
            "Datastreams": [{
                "name": "fill", "description": "x", "observationType":
                "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": {"name": "percent", "symbol": "%", "definition": "x"},
                "Sensor": {"name": "s", "description": "s", "encodingType": "text/html", "metadata": "x"},
                "ObservedProperty": {"name": "p", "definition": "x", "description": "p"}}]}
        r = httpx.post(f"{url}/sta/v1.1/Things", json=thing, headers=H, timeout=30)
        r.raise_for_status()
        tid = r.json()["@iot.id"]
        out.append(int(httpx.get(f"{url}/sta/v1.1/Things({tid})/Datastreams", timeout=30).json()["value"][0]["@iot.id"]))
    return out


def make_rules(url: str, streams: list[int], n: int) -> list[int]:
    ids = []
    for i in range(n):
        firing = i % 20 == 0  # 5 in 100 cross their threshold as the values cycle
        fire, clear = (95.0, 20.0) if firing else (1000.0 + i, 900.0)
        r = httpx.post(f"{url}/alerts/rules", headers=H, timeout=30, json={
            "name": f"rule {i}", "datastream": streams[i % len(streams)],
            "threshold": {"operator": ">=", "fire": fire, "clear": clear}, "staleness_minutes": 60,
            "channels": {"mqtt": True}, "enabled": False})
        r.raise_for_status()
        ids.append(int(r.json()["id"]))
    return ids


def switch(url: str, rules: list[int], enabled: bool) -> None:
    with httpx.Client(base_url=url, headers=H, timeout=30) as c:
        for rid in rules:
            c.patch(f"/alerts/rules/{rid}", json={"enabled": enabled}).raise_for_status()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def engine_cost(n_rules: int, streams: int = STREAMS, events: int = 50000) -> float:
    """Microseconds the rule engine spends on one Observation event in process (the same rules and values as the
    load, transitions included, recording and delivery left out)."""
    import time

    from urbanos.cockpit.alerts.engine import Engine, RuleSpec

    engine = Engine(time.time)
    for i in range(n_rules):
        fire, clear = (95.0, 20.0) if i % 20 == 0 else (1000.0 + i, 900.0)
        engine.load(RuleSpec(i, i % streams, ">=", fire, clear, stale=3600.0))
    t0 = time.perf_counter()
    for k in range(events):
        engine.observe(k % streams, float(k % 100))
    return (time.perf_counter() - t0) / events * 1e6


def mean(a: Result, b: Result) -> Result:
    return Result(a.requests + b.requests, a.seconds + b.seconds, a.latencies + b.latencies, a.errors + b.errors)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=0, help="connections (16 paced, 8 closed-loop by default)")
    ap.add_argument("--rate", type=float, default=500.0, help="POSTs offered a second (0: as fast as possible)")
    ap.add_argument("--rules", type=int, default=100)
    ap.add_argument("--db", default="")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="urbanos-bench-")
    port = free_port()
    urb = launch(port, tmp, db=args.db, env={"URBANOS_ADMIN_TOKEN": TOKEN})
    try:
        url = f"http://127.0.0.1:{port}"
        wait(f"{url}/healthz")
        streams = setup_streams(url, STREAMS)
        rules = make_rules(url, streams, args.rules)
        host = f"127.0.0.1:{port}"
        posts = [build_request("POST", "/sta/v1.1/Observations", host,
                               orjson.dumps({"result": i % 100, "Datastream": {"@iot.id": streams[i % STREAMS]}}),
                               {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
                 for i in range(100)]
        conc = args.concurrency or (16 if args.rate else 8)

        def load(seconds: float) -> Result:
            if args.rate:
                return run_paced("127.0.0.1", port, posts, rate=args.rate, concurrency=conc, seconds=seconds)
            return run_load("127.0.0.1", port, posts, concurrency=conc, seconds=seconds)

        load(1.0)  # warm-up
        runs: dict[bool, list[Result]] = {False: [], True: []}
        cpu: dict[bool, float] = {False: 0.0, True: 0.0}
        for enabled in (False, True, False, True):
            switch(url, rules, enabled)
            before = cpu_seconds(urb.pid)
            runs[enabled].append(load(args.seconds))
            cpu[enabled] += cpu_seconds(urb.pid) - before
        base, with_rules = mean(*runs[False]), mean(*runs[True])
        eps = httpx.get(f"{url}/alerts/episodes?limit=1000", headers=H, timeout=30).json()["episodes"]
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"database: {'PostgreSQL' if args.db else 'SQLite'}, load average {os.getloadavg()[0]:.1f}")
        offered = f", offered {args.rate:.0f}/s" if args.rate else ", closed loop"
        print_results("what", [(f"POST Observations{offered}, no rules (baseline)", base),
                               (f"POST Observations{offered}, {args.rules} rules", with_rules)], 52)
        print(f"alert episodes recorded during the rule phases: {len(eps)}")
        if args.rate:
            kept = with_rules.rate / args.rate
            print(f"achieved {base.rate:.0f}/s without rules and {with_rules.rate:.0f}/s with {args.rules} rules "
                  f"({kept:.1%} of the offered {args.rate:.0f}/s)")
            print(f"slowdown with {args.rules} rules at {args.rate:.0f}/s: p50 latency "
                  f"{(with_rules.p50_ms - base.p50_ms) / base.p50_ms:+.1%}, p99 {(with_rules.p99_ms - base.p99_ms) / base.p99_ms:+.1%}"
                  " (target: ingest slowed by at most 10 %)")
        else:
            diff = (base.rate - with_rules.rate) / base.rate if base.rate else float("nan")
            print(f"the rule engine costs {diff:+.1%} of the ingest rate (target: at most 10 %)")
        if cpu[False] and base.requests and with_rules.requests:
            per = {k: cpu[k] / (base if not k else with_rules).requests * 1e6 for k in (False, True)}
            print(f"server CPU per POST: {per[False]:.0f} µs without rules, {per[True]:.0f} µs with "
                  f"{args.rules} rules ({(per[True] - per[False]) / per[False]:+.1%})")
            cost = engine_cost(args.rules)
            print(f"rule evaluation per Observation, in process: {cost:.1f} µs ({cost / per[False]:.1%} of a POST's "
                  "server CPU without rules)")
    finally:
        urb.terminate()
        urb.wait(timeout=10)


if __name__ == "__main__":
    main()
