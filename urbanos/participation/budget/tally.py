"""Counting a budget vote from its stored ballots: the rule of the budget, each project's support and cost, and the
same figures under the other rules for comparison."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from urbanos.participation.budget.mes import equal_shares
from urbanos.participation.budget.rules import Election, Outcome, TooHard, greedy_by_votes, max_approval

RULES = ("equal_shares", "greedy", "knapsack")


def run_rule(rule: str, election: Election, progress: Callable[[int], None] | None = None) -> Outcome:
    if rule == "equal_shares":
        return equal_shares(election, progress=progress)
    if rule == "greedy":
        return greedy_by_votes(election)
    if rule == "knapsack":
        return max_approval(election)
    raise ValueError(f"unknown rule {rule!r}")


def results(budget: dict[str, Any], projects: list[dict[str, Any]], ballots: list[frozenset[int]],
            progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """The published result: the rule's funded projects with support and cost, and what greedy-by-votes funds."""
    feasible = [p for p in projects if p["feasible"]]
    election = Election(int(budget["amount"]), {int(p["id"]): int(p["cost"]) for p in feasible}, tuple(ballots))
    outcome = run_rule(budget["rule"], election, progress)
    compare: dict[str, list[int]] = {}
    for other in RULES:
        if other != budget["rule"]:
            try:
                compare[other] = sorted(int(k) for k in run_rule(other, election).funded)
            except TooHard:
                continue
    votes = election.votes()
    funded = [int(k) for k in outcome.funded]
    rows = [{"id": int(p["id"]), "title": p["title"], "cost": int(p["cost"]), "votes": votes.get(int(p["id"]), 0),
             "share": round(votes.get(int(p["id"]), 0) / len(ballots), 4) if ballots else 0.0,
             "funded": int(p["id"]) in funded,
             "rank": funded.index(int(p["id"])) + 1 if int(p["id"]) in funded else None} for p in feasible]
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, -r["votes"], r["id"]))
    out: dict[str, Any] = {"rule": budget["rule"], "ballots": len(ballots), "amount": int(budget["amount"]),
                           "spent": int(outcome.cost), "funded": funded, "projects": rows, "compare": compare}
    if budget["rule"] == "equal_shares":
        share = outcome.details.get("share")
        out["equal_shares"] = {"completion": "add1", "utility": "cost", "increments": outcome.details["steps"],
                               "share_per_voter": str(share) if share is not None else None}
    return out


__all__ = ["RULES", "results", "run_rule"]
