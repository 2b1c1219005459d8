"""Budget tally: 10,000 approval ballots over 50 projects (seeded, with neighbourhood preferences: voters approve the
projects of their own district more often), counted with the Method of Equal Shares and its add-1 completion, beside
greedy-by-votes on the same ballots (the baseline: what most cities run) and the Method of Equal Shares without the
completion (one pass). Pure computation, no database. Prints the median of ``--repeat`` runs.

    python benchmarks/budget_tally.py [--voters 10000] [--projects 50] [--budget 4000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from urbanos.participation.budget.mes import equal_shares
from urbanos.participation.budget.rules import Election, greedy_by_votes


def election(voters: int, projects: int, budget: int, seed: int = 7) -> Election:
    rng = random.Random(seed)
    costs = {i: rng.randint(2, 60) * 10_000 for i in range(1, projects + 1)}
    district = {i: rng.randint(0, 6) for i in costs}
    liking = {i: rng.random() ** 1.5 for i in costs}
    ballots = []
    for _ in range(voters):
        home = rng.randint(0, 6)
        chosen = [i for i in costs if rng.random() < (0.35 if district[i] == home else 0.06) * (0.3 + liking[i])]
        ballots.append(frozenset(chosen[:10]))
    return Election(budget, costs, tuple(ballots))


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall-clock and CPU seconds of ``repeat`` runs (on a shared machine the CPU time says more)."""
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voters", type=int, default=10_000)
    ap.add_argument("--projects", type=int, default=50)
    ap.add_argument("--budget", type=int, default=4_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    e = election(a.voters, a.projects, a.budget)
    t_greedy, c_greedy, greedy = timed(lambda: greedy_by_votes(e), a.repeat)
    t_once, c_once, once = timed(lambda: equal_shares(e, completion="none"), a.repeat)
    t_mes, c_mes, mes = timed(lambda: equal_shares(e), a.repeat)
    print(f"{a.voters} ballots, {a.projects} projects, budget {a.budget:,} (wall s / CPU s)")
    print(f"greedy by votes (baseline):           {t_greedy:7.3f} / {c_greedy:7.3f}  funds {len(greedy.funded)} "
          f"projects, {greedy.cost:,} spent")
    print(f"Equal Shares, one pass:               {t_once:7.3f} / {c_once:7.3f}  funds {len(once.funded)} projects, "
          f"{float(once.cost):,.0f} spent")
    print(f"Equal Shares with add-1 (target < 2 s): {t_mes:7.3f} / {c_mes:7.3f}  funds {len(mes.funded)} projects, "
          f"{float(mes.cost):,.0f} spent, {mes.details['steps']} increments "
          f"({c_mes / max(1, mes.details['steps'] + 1) * 1000:.1f} ms CPU a pass)")


if __name__ == "__main__":
    main()
