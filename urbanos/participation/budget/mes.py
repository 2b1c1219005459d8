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
_Recipe = tuple[Fraction, int, np.ndarray, int]
"""How a round's exact payment follows from the earlier ones: ``(cost - share * n_poor + sum(q_s * w_s)) / rich``."""
_Payment = tuple[float, Fraction | None, _Recipe | None]


class _Voters:
    """The distinct ballots of an election (approval rows, weights) and each project's supporting rows."""

    def __init__(self, approvals: np.ndarray, weights: np.ndarray) -> None:
        self.a = approvals
        self.w = weights
        self.weighted = (approvals.astype(np.int64) * weights[:, None]).astype(np.int32)  # gathered every round: half the bytes
        self.supporters = [np.flatnonzero(approvals[:, j]) for j in range(approvals.shape[1])]


class _Classes:
    """Voters grouped by the funded projects they approved (same budget): each class's budget as a float, which
    funded projects it paid for (``pattern``; its exact budget is ``share - sum(q_t)`` over them), its size and its
    approvals per project. Only the supporters of a funded project move, so a round touches only them."""

    def __init__(self, voters: _Voters, share: Fraction) -> None:
        self.v = voters
        m = voters.a.shape[1]
        self.share = share
        self.cls = np.zeros(voters.a.shape[0], dtype=np.int64)
        self.bf = np.array([float(share)])
        self.pattern = np.zeros((1, m), dtype=bool)
        self.size = np.array([int(voters.w.sum())], dtype=np.int64)
        self.qs: list[Fraction | None] = []
        self.recipes: list[_Recipe | None] = []
        self.counts = voters.weighted.sum(axis=0)[None, :]

    def exact(self) -> list[Fraction]:
        """The exact payments of all rounds so far (computed from their recipes when first needed)."""
        for t, q in enumerate(self.qs):
            if q is None:
                recipe = self.recipes[t]
                assert recipe is not None
                cost, n_poor, w, rich_n = recipe
                back = sum((self.qs[s] * int(w[s]) for s in np.flatnonzero(w[:t])), start=Fraction(0))  # type: ignore[operator]
                self.qs[t] = (cost - self.share * n_poor + back) / rich_n
        return self.qs  # type: ignore[return-value]

    def budget(self, c: int) -> Fraction:
        qs = self.exact()
        return self.share - sum((qs[t] for t in np.flatnonzero(self.pattern[c])), start=Fraction(0))

    def paid(self, rows: np.ndarray, j: int) -> Fraction:
        """Exactly ``sum(budget_c * count_cj)`` over the classes ``rows``."""
        qs = self.exact()
        n = self.counts[rows, j]
        w = n @ self.pattern[rows].astype(np.int64) if len(rows) else np.zeros(self.pattern.shape[1], dtype=np.int64)
        return self.share * int(n.sum()) - sum((qs[t] * int(w[t]) for t in np.flatnonzero(w)), start=Fraction(0))

    def payment(self, j: int, cost: Fraction, q_est: float, exact: bool = False) -> _Payment:
        """The payment per supporter that funds ``j``: as a float, and exactly or as the recipe of its exact value
        (when no supporter's budget is within the tolerance of it, which supporters pay all they have is certain)."""
        sup = np.flatnonzero(self.counts[:, j] > 0)
        bf = self.bf[sup]
        tol = TOL * max(q_est, float(self.share))
        poor, rich, unsure = sup[bf < q_est - tol], sup[bf > q_est + tol], sup[np.abs(bf - q_est) <= tol]
        if not exact and len(unsure) == 0:
            n = self.counts[poor, j]
            rich_n = int(self.counts[rich, j].sum())
            qf = (float(cost) - float(self.bf[poor] @ n)) / rich_n
            return qf, None, (cost, int(n.sum()), n @ self.pattern[poor].astype(np.int64), rich_n)
        q = self._exact_q(j, cost, poor, rich, unsure)
        return float(q), q, None

    def _exact_q(self, j: int, cost: Fraction, poor: np.ndarray, rich: np.ndarray, unsure: np.ndarray) -> Fraction:
        paid = self.paid(poor, j)
        rich_n = int(self.counts[rich, j].sum() + self.counts[unsure, j].sum())
        for b, c in sorted((self.budget(int(c)), int(c)) for c in unsure):
            q = (cost - paid) / rich_n
            if q <= b:
                return q
            paid += b * int(self.counts[c, j])
            rich_n -= int(self.counts[c, j])
        return (cost - paid) / rich_n

    def pay(self, j: int, payment: _Payment) -> None:
        """The supporters of ``j`` pay ``min(budget, q)``: their classes split; who is left with nothing drops out."""
        qf, exact, recipe = payment
        t = len(self.qs)
        self.qs.append(exact)
        self.recipes.append(recipe)
        sv = self.v.supporters[j]
        sv = sv[self.cls[sv] >= 0]
        par = self.cls[sv]
        # a stable sort of small integers is a radix sort when they fit in 16 bits
        order = np.argsort(par.astype(np.int16) if len(self.bf) < 32768 else par, kind="stable")
        sv, par = sv[order], par[order]
        edge = np.empty(len(par), dtype=bool)
        edge[0] = True
        np.not_equal(par[1:], par[:-1], out=edge[1:])
        starts = np.flatnonzero(edge)
        up = par[starts]
        app_counts = np.add.reduceat(self.v.weighted[sv], starts, axis=0)
        app_size = np.add.reduceat(self.v.w[sv], starts)
        group = np.cumsum(edge) - 1
        tol = TOL * max(qf, float(self.share))
        dead = self.bf[up] < qf - tol
        for i in np.flatnonzero(np.abs(self.bf[up] - qf) <= tol):
            dead[i] = self.budget(int(up[i])) <= self.exact()[t]
        rest = self.size[up] - app_size
        moved = ~dead & (rest > 0)
        whole = ~dead & (rest == 0)
        self.bf[up[whole]] -= qf
        self.pattern[up[whole], t] = True
        self.counts[up[~whole]] -= app_counts[~whole]
        self.size[up[~whole]] = rest[~whole]
        new_ids = np.full(len(up), -1, dtype=np.int64)
        new_ids[whole] = up[whole]
        k = int(moved.sum())
        if k:
            base = len(self.bf)
            new_ids[moved] = np.arange(base, base + k)
            pattern = self.pattern[up[moved]].copy()
            pattern[:, t] = True
            self.bf = np.concatenate([self.bf, self.bf[up[moved]] - qf])
            self.pattern = np.vstack([self.pattern, pattern])
            self.size = np.concatenate([self.size, app_size[moved]])
            self.counts = np.vstack([self.counts, app_counts[moved]])
        self.cls[sv] = new_ids[group]


def _round(k: _Classes, costs: list[Fraction], cost_f: np.ndarray, util: list[Fraction], util_f: np.ndarray,
           remaining: np.ndarray) -> tuple[int, _Payment] | None:
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
    best: tuple[Fraction, int, _Payment] | None = None
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
    near = np.flatnonzero(rho <= rho.min() * (1 + 1e-7))
    if len(near) == 1:
        one = int(cols[near[0]])
        return one, k.payment(one, costs[one], float(q_est[near[0]]))
    for i in near.tolist():  # a tie within the floats' error: decided exactly, then by the smaller key
        col = int(cols[i])
        pay = k.payment(col, costs[col], float(q_est[i]), exact=True)
        assert pay[1] is not None
        if best is None or pay[1] / util[col] < best[0]:
            best = (pay[1] / util[col], col, pay)
    assert best is not None
    return best[1], best[2]


def _mes(voters: _Voters, costs: list[Fraction], util: list[Fraction], share: Fraction) -> list[int]:
    k = _Classes(voters, share)
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
    distinct: dict[frozenset[Any], int] = {}
    for ballot in election.ballots:
        distinct[ballot] = distinct.get(ballot, 0) + 1
    approvals = np.zeros((len(distinct), len(cands)), dtype=bool)
    for v, ballot in enumerate(distinct):
        approvals[v, [col[p] for p in ballot if p in col]] = True
    voters = _Voters(approvals, np.fromiter(distinct.values(), dtype=np.int64, count=len(distinct)))
    costs = [Fraction(election.costs[p]) for p in cands]
    util = costs if utility == "cost" else [Fraction(1)] * len(cands)
    share = budget / n
    chosen, used = _mes(voters, costs, util, share), share
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
        chosen, used = _mes(voters, costs, util, share), share
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
