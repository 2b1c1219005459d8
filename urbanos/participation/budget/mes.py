"""The Method of Equal Shares (MES) for approval ballots, with the "add 1" completion Aarau used.

Every voter starts with an equal share ``b = budget / voters`` of the budget. In each round, the project that costs
its supporters the least per unit of utility is funded: a project is affordable at a payment ``q`` per supporter when
``sum(min(b_i, q)) = cost`` over its supporters; its price per unit of utility is ``q / u`` where ``u`` is the utility
of a supporter (``cost`` utilities: ``u = cost``, the default of equalshares.net; ``approval`` utilities: ``u = 1``).
Ties go to the smaller project key. Supporters pay ``min(b_i, q)``. It stops when no project is affordable.

"add 1" completion: while the outcome leaves money that a further supported project could use, the share of every
voter is raised by ``increment`` (1 unit of the currency) and the rule runs again from the start; the last outcome
that stays within the budget is kept (stop when the outcome is exhaustive or when raising once more overspends).
Optionally the rest is filled greedily by votes (``fill="greedy"``), which is documented in docs/budgets.md.

Exactness: the result is the one of exact rational arithmetic. The search runs on floats over *classes* of voters
(voters who approved the same funded projects hold the same budget ``b - sum(q_t)``), and every decision a float
could get wrong — the cheapest project, a project that is exactly affordable, a supporter who pays exactly her whole
budget — is decided again with :class:`~fractions.Fraction` when the floats are within a relative 1e-9 of a tie.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from urbanos.participation.budget.rules import Election, Number, Outcome

TOL = 1e-9


class _Classes:
    """Voters grouped by the funded projects they approved (same budget); their counts of approvals per project."""

    def __init__(self, approvals: np.ndarray, share: Fraction) -> None:
        self.a = approvals
        self.share = share
        self.cls = np.zeros(approvals.shape[0], dtype=np.int64)
        self.bf = np.array([float(share)])
        self.pattern = np.zeros((1, 0), dtype=bool)
        self.qs: list[Fraction] = []
        self.counts = approvals.sum(axis=0, dtype=np.int64)[None, :]

    def budget(self, c: int) -> Fraction:
        return self.share - sum((self.qs[t] for t in np.flatnonzero(self.pattern[c])), start=Fraction(0))

    def paid(self, rows: np.ndarray, j: int) -> Fraction:
        """Exactly ``sum(budget_c * count_cj)`` over the classes ``rows``."""
        n = self.counts[rows, j]
        w = n @ self.pattern[rows].astype(np.int64) if len(rows) else np.zeros(len(self.qs), dtype=np.int64)
        return self.share * int(n.sum()) - sum((self.qs[t] * int(w[t]) for t in np.flatnonzero(w)),
                                               start=Fraction(0))

    def exact_q(self, j: int, cost: Fraction, q_est: float) -> Fraction:
        sup = np.flatnonzero(self.counts[:, j] > 0)
        bf = self.bf[sup]
        tol = TOL * max(q_est, float(self.share))
        poor, rich, unsure = sup[bf < q_est - tol], sup[bf > q_est + tol], sup[np.abs(bf - q_est) <= tol]
        paid = self.paid(poor, j)
        rich_n = int(self.counts[rich, j].sum() + self.counts[unsure, j].sum())
        for b, c in sorted((self.budget(int(c)), int(c)) for c in unsure):
            q = (cost - paid) / rich_n
            if q <= b:
                return q
            paid += b * int(self.counts[c, j])
            rich_n -= int(self.counts[c, j])
        return (cost - paid) / rich_n

    def pay(self, j: int, q: Fraction) -> None:
        """The supporters of ``j`` pay ``min(budget, q)``: classes split, the ones left with nothing are dropped."""
        qf = float(q)
        tol = TOL * max(qf, float(self.share))
        dead = np.zeros(len(self.bf), dtype=bool)
        dead[self.bf < qf - tol] = True
        for c in np.flatnonzero(np.abs(self.bf - qf) <= tol):
            dead[c] = self.budget(int(c)) <= q
        self.qs.append(q)
        alive = self.cls >= 0
        key = np.where(alive, self.cls * 2 + (self.a[:, j] & alive), -1)
        uniq, inv = np.unique(key[alive], return_inverse=True)
        parent, approves = uniq // 2, (uniq % 2).astype(bool)
        gone = approves & dead[parent]
        keep = np.flatnonzero(~gone)
        renum = np.full(len(uniq), -1, dtype=np.int64)
        renum[keep] = np.arange(len(keep))
        self.cls = np.full(len(self.cls), -1, dtype=np.int64)
        self.cls[np.flatnonzero(alive)] = renum[inv]
        self.bf = (self.bf[parent] - qf * approves)[keep]
        self.pattern = np.hstack([self.pattern[parent], approves[:, None]])[keep]
        live = np.flatnonzero(self.cls >= 0)
        if len(live) == 0:
            self.counts = np.zeros((0, self.a.shape[1]), dtype=np.int64)
            return
        order = live[np.argsort(self.cls[live], kind="stable")]
        ids = self.cls[order]
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        self.counts = np.add.reduceat(self.a[order].astype(np.int64), starts, axis=0)


def _round(k: _Classes, costs: list[Fraction], cost_f: np.ndarray, util: list[Fraction], util_f: np.ndarray,
           remaining: np.ndarray) -> tuple[int, Fraction] | None:
    """One round: drop the unaffordable projects from ``remaining``; the project to fund and its payment per
    supporter, or None."""
    cols = np.flatnonzero(remaining)
    if len(cols) == 0 or len(k.bf) == 0:
        return None
    order = np.argsort(k.bf, kind="stable")
    bs = k.bf[order]
    ns = k.counts[order][:, cols].astype(np.float64)
    contrib = bs[:, None] * ns
    avail = contrib.sum(axis=0)
    paid_before = np.cumsum(contrib, axis=0) - contrib
    rich = ns.sum(axis=0) - (np.cumsum(ns, axis=0) - ns)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (cost_f[cols] - paid_before) / rich
    ok = (ns > 0) & (q <= bs[:, None])
    q_est = np.where(ok.any(axis=0), q[ok.argmax(axis=0), np.arange(len(cols))], bs[-1])
    best: tuple[Fraction, int, Fraction] | None = None
    rho = np.full(len(cols), np.inf)
    for i, j in enumerate(cols):
        c = cost_f[j]
        affordable = avail[i] >= c * (1 + TOL) or (avail[i] > c * (1 - TOL) and
                                                  k.paid(np.arange(len(k.bf)), int(j)) >= costs[j])
        if not affordable:
            remaining[j] = False
        else:
            rho[i] = q_est[i] / util_f[j]
    if not np.isfinite(rho).any():
        return None
    low = rho.min()
    for i in np.flatnonzero(rho <= low * (1 + 1e-7)):
        j = int(cols[i])
        q_j = k.exact_q(j, costs[j], float(q_est[i]))
        if best is None or q_j / util[j] < best[0]:
            best = (q_j / util[j], j, q_j)
    assert best is not None
    return best[1], best[2]


def _mes(approvals: np.ndarray, costs: list[Fraction], util: list[Fraction], share: Fraction) -> list[int]:
    k = _Classes(approvals, share)
    remaining = np.ones(len(costs), dtype=bool)
    cost_f = np.array([float(c) for c in costs])
    util_f = np.array([float(u) for u in util])
    funded: list[int] = []
    while (found := _round(k, costs, cost_f, util, util_f, remaining)) is not None:
        j, q = found
        funded.append(j)
        remaining[j] = False
        k.pay(j, q)
    return funded


def equal_shares(election: Election, utility: str = "cost", completion: str = "add1", increment: Number = 1,
                 fill: str = "none", max_steps: int = 1_000_000,
                 progress: Callable[[int], None] | None = None) -> Outcome:
    """The Method of Equal Shares (``utility`` "cost" or "approval"; ``completion`` "add1" or "none"; ``fill``
    "greedy" or "none")."""
    if utility not in ("cost", "approval") or completion not in ("add1", "none") or fill not in ("greedy", "none"):
        raise ValueError("utility is cost or approval, completion add1 or none, fill greedy or none")
    votes = election.votes()
    budget = Fraction(election.budget)
    free = [p for p in election.keys() if votes[p] > 0 and election.costs[p] == 0]
    cands = [p for p in election.keys() if votes[p] > 0 and election.costs[p] > 0]
    n = len(election.ballots)
    details: dict[str, Any] = {"votes": dict(votes), "utility": utility, "completion": completion, "steps": 0}
    if n == 0 or not cands:
        return Outcome("equal_shares", tuple(free), 0, details)
    col = {p: i for i, p in enumerate(cands)}
    approvals = np.zeros((n, len(cands)), dtype=bool)
    for v, ballot in enumerate(election.ballots):
        approvals[v, [col[p] for p in ballot if p in col]] = True
    costs = [Fraction(election.costs[p]) for p in cands]
    util = costs if utility == "cost" else [Fraction(1)] * len(cands)
    share = budget / n
    chosen, used = _mes(approvals, costs, util, share), share
    previous: list[int] = []
    while completion == "add1" and details["steps"] < max_steps:
        spent = sum((costs[j] for j in chosen), start=Fraction(0))
        if spent > budget:
            chosen, used = previous, share - increment
            break
        if all(costs[j] + spent > budget for j in range(len(cands)) if j not in set(chosen)):
            break
        previous, share = chosen, share + increment
        details["steps"] += 1
        if progress is not None:
            progress(details["steps"])
        chosen, used = _mes(approvals, costs, util, share), share
    details["share"] = used
    funded = free + [cands[j] for j in chosen]
    spent_all = sum((costs[j] for j in chosen), start=Fraction(0))
    if fill == "greedy":
        for p in sorted(cands, key=lambda p: -votes[p]):
            if p not in funded and costs[col[p]] <= budget - spent_all:
                funded.append(p)
                spent_all += costs[col[p]]
                details.setdefault("filled", []).append(p)
    total = spent_all.numerator if spent_all.denominator == 1 else spent_all
    return Outcome("equal_shares", tuple(funded), total, details)


__all__ = ["equal_shares", "TOL"]
