"""Voting rules on approval ballots, pure Python with exact arithmetic (costs and budgets are integers or
:class:`~fractions.Fraction`; nothing is rounded).

* :func:`greedy_by_votes`: the rule most cities run ("knapsack within the budget"): projects in descending order of
  approvals, each funded when it still fits in what is left (one that does not fit is skipped, the next is tried);
* :func:`max_approval`: the exact knapsack: the set of projects within the budget with the most approvals (branch and
  bound, refused above a node limit);
* :func:`urbanos.participation.budget.mes.equal_shares`: the Method of Equal Shares (its own module).

Ties are broken by the projects' keys in ascending order (the keys are what the caller passes: the platform passes
its project ids, the pabulib reader the file's project ids as text, as pabutools does). A project nobody approved is
never funded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

Number = int | Fraction


@dataclass(frozen=True)
class Election:
    """A budget vote: the budget, each project's cost (by key) and the approval ballots (sets of keys)."""

    budget: Number
    costs: dict[Any, Number]
    ballots: Sequence[frozenset[Any]] = field(default_factory=tuple)

    def keys(self) -> list[Any]:
        """The projects' keys in tie-breaking order."""
        return sorted(self.costs)

    def votes(self) -> Counter[Any]:
        """Approvals per project."""
        c: Counter[Any] = Counter()
        for b in self.ballots:
            c.update(b)
        return c


@dataclass(frozen=True)
class Outcome:
    """The funded projects in the order the rule chose them, and how (``details``: rule-specific figures)."""

    rule: str
    funded: tuple[Any, ...]
    cost: Number
    details: dict[str, Any] = field(default_factory=dict)


def check_ballot(projects: Iterable[Hashable], ballot: Iterable[Hashable], minimum: int, maximum: int | None) -> str:
    """Why an approval ballot is refused ('' when it is valid): unknown projects, a project twice, fewer than
    ``minimum`` or more than ``maximum`` projects."""
    known = set(projects)
    items = list(ballot)
    if len(set(items)) != len(items):
        return "duplicate"
    if any(i not in known for i in items):
        return "unknown_project"
    if len(items) < minimum:
        return "too_few"
    if maximum is not None and len(items) > maximum:
        return "too_many"
    return ""


def greedy_by_votes(election: Election) -> Outcome:
    """Fund projects by descending approvals while they fit; one that does not fit is skipped (the next may)."""
    votes = election.votes()
    order = sorted((k for k in election.keys() if votes[k] > 0), key=lambda k: -votes[k])  # stable: ties by key
    left: Number = election.budget
    funded = []
    for k in order:
        if election.costs[k] <= left:
            funded.append(k)
            left -= election.costs[k]
    return Outcome("greedy", tuple(funded), election.budget - left, {"votes": dict(votes)})


class TooHard(ValueError):
    """The exact knapsack needed more search than allowed."""


def max_approval(election: Election, node_limit: int = 200_000) -> Outcome:
    """The projects within the budget with the most approvals in total (ties: the cheaper set, then the first found
    in key order). Branch and bound over projects by approvals per cost, bounded by the fractional relaxation."""
    votes = election.votes()
    items = [(k, election.costs[k], votes[k]) for k in election.keys() if votes[k] > 0]
    free = [k for k, c, _ in items if c == 0]
    items = sorted(((k, c, v) for k, c, v in items if c > 0), key=lambda t: Fraction(-t[2], 1) / t[1])
    budget = election.budget
    best: list[Any] = [0, 0, ()]  # value, cost, keys
    nodes = 0

    def bound(i: int, room: Number, value: int) -> Fraction:
        total = Fraction(value)
        for _, c, v in items[i:]:
            if c <= room:
                room -= c
                total += v
            else:
                return total + Fraction(v) * Fraction(room) / Fraction(c)
        return total

    def search(i: int, room: Number, value: int, cost: Number, chosen: tuple[Any, ...]) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > node_limit:
            raise TooHard(f"the exact knapsack needs more than {node_limit} steps")
        if value > best[0] or (value == best[0] and cost < best[1]):
            best[:] = [value, cost, chosen]
        if i == len(items) or bound(i, room, value) < best[0]:
            return
        k, c, v = items[i]
        if c <= room:
            search(i + 1, room - c, value + v, cost + c, (*chosen, k))
        search(i + 1, room, value, cost, chosen)

    search(0, budget, 0, 0, ())
    funded = tuple(free) + tuple(sorted(best[2]))
    return Outcome("knapsack", funded, sum((election.costs[k] for k in funded), start=0),
                   {"votes": dict(votes), "approvals": best[0], "steps": nodes})


__all__ = ["Election", "Outcome", "Number", "check_ballot", "greedy_by_votes", "max_approval", "TooHard"]
