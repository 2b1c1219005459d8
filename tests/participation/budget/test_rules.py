"""The voting rules against pabutools (GPL-3.0, a test dependency only): the Method of Equal Shares with and without
the add-1 completion, with cost and with approval utilities, greedy by votes and the exact knapsack, on random
instances and on a real pabulib file (Świecie 2023, decided with equalshares/add1)."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SQLITE_RUN_ONLY
from urbanos.participation.budget.mes import equal_shares
from urbanos.participation.budget.pabulib import PabulibError, dump, parse
from urbanos.participation.budget.rules import Election, TooHard, check_ballot, greedy_by_votes, max_approval

pabutools = pytest.importorskip("pabutools")
from pabutools.election import (  # noqa: E402
    ApprovalBallot,
    ApprovalProfile,
    Cardinality_Sat,
    Cost_Sat,
    Instance,
    Project,
    parse_pabulib,
)
from pabutools.rules import (  # noqa: E402
    greedy_utilitarian_welfare,
    max_additive_utilitarian_welfare,
    method_of_equal_shares,
)

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end

SWIECIE = Path(__file__).parent / "data" / "poland_swiecie_2023_.pb"
SWIECIE_ADD1 = ["c1", "c10", "c11", "c12", "c13", "c14", "c17", "c18", "c19", "c2", "c20", "c21", "c3", "c4", "c5",
                "c7", "c9"]
"""pabutools 1.2.3's ``method_of_equal_shares(…, sat_class=Cost_Sat, voter_budget_increment=1)`` on the file (44 s
there, so recorded here rather than run)."""


def _random(seed: int) -> Election:
    rng = random.Random(seed)
    m, n = rng.randint(3, 14), rng.randint(8, 120)
    costs = {f"p{i:02d}": rng.randint(1, 40) for i in range(m)}
    liking = {p: rng.random() * 0.7 for p in costs}
    ballots = tuple(frozenset(p for p in costs if rng.random() < liking[p]) for _ in range(n))
    total = sum(costs.values())
    return Election(rng.randint(max(1, total // 5), max(2, total // 2)), costs, ballots)


def _pabu(e: Election) -> tuple[Any, Any, dict[str, Any]]:
    inst = Instance(budget_limit=e.budget)
    projects = {k: Project(k, c) for k, c in e.costs.items()}
    inst.update(projects.values())
    profile = ApprovalProfile([ApprovalBallot([projects[k] for k in b]) for b in e.ballots], instance=inst)
    return inst, profile, projects


def _names(allocation: Any) -> list[str]:
    return sorted(p.name for p in allocation)


@pytest.mark.parametrize("seed", range(24))
def test_equal_shares_equals_pabutools_on_random_instances(seed: int) -> None:
    e = _random(seed)
    inst, profile, _ = _pabu(e)
    for utility, sat in (("cost", Cost_Sat), ("approval", Cardinality_Sat)):
        plain = equal_shares(e, utility, completion="none")
        assert sorted(plain.funded) == _names(method_of_equal_shares(inst, profile, sat_class=sat)), utility
        ours = equal_shares(e, utility, completion="add1", increment=1)
        theirs = method_of_equal_shares(inst, profile, sat_class=sat, voter_budget_increment=1)
        assert sorted(ours.funded) == _names(theirs), utility
        assert ours.cost <= e.budget


@pytest.mark.parametrize("seed", range(24))
def test_greedy_and_knapsack_equal_pabutools(seed: int) -> None:
    e = _random(100 + seed)
    votes = e.votes()
    supported = Election(e.budget, {k: c for k, c in e.costs.items() if votes[k]}, e.ballots)  # nobody funds 0 votes
    inst, profile, _ = _pabu(supported)
    assert sorted(greedy_by_votes(e).funded) == _names(greedy_utilitarian_welfare(inst, profile, sat_class=Cost_Sat))
    best = max_additive_utilitarian_welfare(inst, profile, sat_class=Cardinality_Sat)
    ours = max_approval(e)
    assert ours.details["approvals"] == sum(votes[p.name] for p in best)
    assert ours.cost <= e.budget


def test_the_real_file_counts_as_pabutools_does() -> None:
    pb = parse(SWIECIE.read_text(encoding="utf-8"))
    e = pb.election()
    assert (len(e.costs), len(e.ballots), e.budget) == (22, 2553, 1_070_000)
    assert pb.meta["rule"] == "equalshares/add1"
    inst, profile = parse_pabulib(str(SWIECIE))
    assert sorted(equal_shares(e, completion="none").funded) == _names(
        method_of_equal_shares(inst, profile, sat_class=Cost_Sat))
    assert sorted(equal_shares(e, increment=25).funded) == _names(
        method_of_equal_shares(inst, profile, sat_class=Cost_Sat, voter_budget_increment=25))
    assert sorted(greedy_by_votes(e).funded) == _names(greedy_utilitarian_welfare(inst, profile, sat_class=Cost_Sat))
    add1 = equal_shares(e)
    assert sorted(add1.funded) == SWIECIE_ADD1 and add1.details["steps"] == 226
    assert len(add1.funded) > len(greedy_by_votes(e).funded)  # 17 projects where most-votes funds 9


def test_exact_arithmetic_decides_a_tie() -> None:
    # two projects, each affordable at exactly 1/3 of a voter's budget: the tie goes to the smaller key, whichever
    # float rounding would say
    e = Election(3, {"a": 1, "b": 1}, (frozenset("ab"), frozenset("ab"), frozenset("ab")))
    assert equal_shares(e, completion="none").funded == ("a", "b")
    e = Election(Fraction(1, 10) * 3, {"x": Fraction(1, 10), "y": Fraction(2, 10)},
                 (frozenset("x"), frozenset("y"), frozenset("xy")))
    assert equal_shares(e, completion="none").cost <= Fraction(3, 10)


def test_greedy_fill_after_equal_shares_is_documented_and_stays_in_budget() -> None:
    e = _random(7)
    filled = equal_shares(e, fill="greedy")
    plain = equal_shares(e)
    assert set(plain.funded) <= set(filled.funded) and filled.cost <= e.budget
    assert [p for p in filled.funded if p not in plain.funded] == filled.details.get("filled", [])


def test_the_knapsack_refuses_a_search_too_large() -> None:
    rng = random.Random(3)
    e = Election(10**6, {i: rng.randint(10**4, 10**5) for i in range(60)},
                 tuple(frozenset(rng.sample(range(60), 10)) for _ in range(300)))
    with pytest.raises(TooHard):
        max_approval(e, node_limit=50)


def test_ballot_checks() -> None:
    assert check_ballot([1, 2, 3], [1, 2], 1, 2) == ""
    assert check_ballot([1, 2, 3], [1, 1], 1, 3) == "duplicate"
    assert check_ballot([1, 2, 3], [4], 1, 3) == "unknown_project"
    assert check_ballot([1, 2, 3], [], 1, 3) == "too_few"
    assert check_ballot([1, 2, 3], [1, 2, 3], 0, 2) == "too_many"
    assert check_ballot([1, 2, 3], [1, 2, 3], 0, None) == ""


def test_pabulib_round_trip_and_refusals() -> None:
    text = dump({"description": "Test", "budget": "100,5", "vote_type": "approval"},
                [{"project_id": "1", "cost": "50", "name": "A; B"}, {"project_id": "2", "cost": "60", "name": "C"}],
                [{"voter_id": "v1", "vote": "1,2"}, {"voter_id": "v2", "vote": "2"}])
    e = parse(text).election()
    assert e.budget == Fraction(201, 2) and e.costs == {"1": 50, "2": 60} and e.votes() == {"1": 1, "2": 2}
    with pytest.raises(PabulibError):
        parse(text.replace("vote_type;approval", "vote_type;ordinal"))
    with pytest.raises(PabulibError):
        parse(text.replace("v2;2", "v2;9")).election()
    with pytest.raises(PabulibError):
        parse(text.replace("budget;100,5", "budget;lots")).election()
    with pytest.raises(PabulibError):
        parse("PROJECTS\nproject_id;cost\n")
