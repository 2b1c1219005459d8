"""``urbanos budget tally`` counts a closed vote again from the stored ballots (same result as published), and the
demo holds one finished, counted budget vote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.participation.budget.helpers import PREFIX, budget_in_vote, codes, org, steward, voter_key
from urbanos.participation.budget import wiring
from urbanos.participation.budget.demo import NAME


def _tally(ref: str, db_url: str, data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    return subprocess.run([sys.executable, "-m", "urbanos.cli.main", "budget", "tally", ref, "--db", db_url,
                           "--data-dir", str(data_dir), *extra], capture_output=True, text=True, env=env, timeout=120)


def test_tally_reproduces_the_published_result(client: Any, db_url: str, tmp_path: Path) -> None:
    org(client, "bezirk-eppendorf")
    h = steward(client, "bezirk-eppendorf")
    b, ids = budget_in_vote(client, "eppendorf", "bezirk-eppendorf", h, rule="greedy")
    for code, choice in zip(codes(client, b["id"], h, 3), ([ids[0]], [ids[0], ids[2]], [ids[1]]), strict=True):
        r = client.put(f"{PREFIX}/{b['id']}/ballot", json={"projects": choice},
                       headers={"X-Voter-Key": voter_key(client, b["id"], code)})
        assert r.status_code == 200, r.text
    assert client.patch(f"{PREFIX}/eppendorf", json={"phase": "results"}, headers=h).status_code == 200
    published = client.get(f"{PREFIX}/eppendorf/results").json()
    p = _tally("eppendorf", db_url, tmp_path)
    assert p.returncode == 0, p.stderr
    assert "3 ballots, rule greedy" in p.stdout and "same result as published" in p.stdout
    p = _tally("eppendorf", db_url, tmp_path, "--json")
    out = json.loads(p.stdout)
    assert out["funded"] == published["funded"] and out["projects"] == published["projects"]
    p = _tally("no-such-budget", db_url, tmp_path)
    assert p.returncode == 2 and p.stderr.startswith("urbanos: error:") and "Traceback" not in p.stderr


def test_the_demo_has_a_finished_vote(client: Any, platform: Any) -> None:
    org(client, "hamburg-lgv")
    wiring.demo(platform)
    wiring.demo(platform)  # idempotent
    res = client.get(f"{PREFIX}/{NAME}/results").json()
    assert res["budget"]["phase"] == "results" and res["ballots"] == 800 and res["rule"] == "equal_shares"
    assert len(res["funded"]) >= len(res["compare"]["greedy"]) and res["spent"] <= res["amount"]
    assert all(p["votes"] > 0 and p["cost"] > 0 for p in res["projects"])
    assert len(client.get(PREFIX).json()["budgets"]) == 1
    ideas = client.get(f"{PREFIX}/{NAME}/ideas").json()["ideas"]
    assert {i["status"] for i in ideas} == {"accepted", "merged", "rejected"}
    assert all(i["reason"] for i in ideas if i["status"] == "rejected")
    linked = {p["idea_id"] for p in client.get(f"{PREFIX}/{NAME}").json()["projects"] if p["idea_id"]}
    assert linked == {i["id"] for i in ideas if i["status"] == "accepted"}

