"""The closed vote's ballots are published as a pabulib file that another tool counts the same way (pabutools, a
test dependency), and that names no voter."""

from __future__ import annotations

from typing import Any

import pytest

from tests.participation.budget.helpers import PREFIX, budget_in_vote, org, steward
from urbanos.participation.budget import wiring
from urbanos.participation.budget.demo import NAME
from urbanos.participation.budget.pabulib import parse


def test_the_published_ballots_count_the_same_in_pabutools(client: Any, platform: Any) -> None:
    """Anyone can take the published .pb file to another tool: pabutools funds what the platform published."""
    pytest.importorskip("pabutools")
    from pabutools.election import Cost_Sat
    from pabutools.election.pabulib import parse_pabulib_from_string
    from pabutools.rules import method_of_equal_shares

    org(client, "hamburg-lgv")
    wiring.demo(platform)
    assert client.get(f"{PREFIX}/{NAME}/ballots.pb").status_code == 200
    r = client.get(f"{PREFIX}/{NAME}/ballots.pb")
    assert r.headers["content-disposition"] == f'attachment; filename="{NAME}.pb"'
    text = r.text
    assert "voter_key" not in text and "change_mac" not in text
    instance, profile = parse_pabulib_from_string(text)
    theirs = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)
    published = client.get(f"{PREFIX}/{NAME}/results").json()
    assert sorted(int(p.name) for p in theirs) == sorted(published["funded"])
    ours = parse(text)
    assert sorted(int(k) for k, row in ours.projects.items() if row["selected"] == "1") == sorted(published["funded"])
    assert len(ours.votes) == 800 and [v["voter_id"] for v in ours.votes[:2]] == ["v1", "v2"]
    org(client, "bezirk-x")
    h = steward(client, "bezirk-x")
    budget_in_vote(client, "open-vote", "bezirk-x", h)
    assert client.get(f"{PREFIX}/open-vote/ballots.pb").status_code == 404  # not while the vote is open
