"""The consent gate's cost, in process: the gate transform over Observation rows of a consent-based dataset (10,000
principals with consent, half the rows without) beside a baseline that copies the same rows unfiltered, and the
``observation`` write check (nothing marked person-related, the usual case, and one ObservedProperty blocked) beside
a gate with no check. Figures in µs per row or per call; the best of --rounds runs.

    python benchmarks/privacy_consent.py [--rows 100000] [--rounds 5]"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from urbanos.governance import ADMIN, DatasetAccess
from urbanos.privacy.consent.service import ConsentRegister
from urbanos.privacy.consent.state import ConsentDataset, Snapshot
from urbanos.privacy.dpia.service import Assessments


class _State:
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def stale(self) -> bool:
        return False


def best(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    granted = frozenset((f"p{i}", "research", "org") for i in range(0, 20_000, 2))
    snap = Snapshot(1, {"visits": ConsentDataset("visits", "org", "person", "research", "org")}, granted,
                    frozenset({999_999}))
    reg = ConsentRegister.__new__(ConsentRegister)
    reg.state = _State(snap)  # type: ignore[assignment]
    ds = DatasetAccess(1, "visits", "org", "internal")
    rows = [{"@iot.id": i, "result": i, "parameters": {"person": f"p{i % 20_000}"}} for i in range(a.rows)]
    baseline = best(lambda: [dict(r) for r in rows], a.rounds) / a.rows * 1e6
    gated = best(lambda: reg.transform(ADMIN, ds, rows), a.rounds) / a.rows * 1e6
    kept = len(reg.transform(ADMIN, ds, rows))
    print(f"consent transform: {gated:.3f} µs/row (kept {kept} of {a.rows}); baseline copy: {baseline:.3f} µs/row")

    checks = Assessments.__new__(Assessments)
    checks.state = _State(Snapshot())  # type: ignore[assignment]
    facts = {"kind": "Datastream", "id": 1, "dataset_id": 1, "observed_properties": lambda: [1]}
    n = 200_000
    none = best(lambda: [None for _ in range(n)], a.rounds) / n * 1e6
    empty = best(lambda: [checks.check_observation(None, None, facts) for _ in range(n)], a.rounds) / n * 1e6  # type: ignore[arg-type]
    checks.state = _State(Snapshot(blocked_properties=frozenset({999_999})))  # type: ignore[assignment]
    other = best(lambda: [checks.check_observation(None, None, facts) for _ in range(n)], a.rounds) / n * 1e6  # type: ignore[arg-type]
    print(f"observation write check: {empty:.3f} µs/call (nothing blocked), {other:.3f} µs/call (another "
          f"ObservedProperty blocked); baseline empty loop: {none:.3f} µs/call")


if __name__ == "__main__":
    main()
