"""Helpers of the budget tests: organisations, tokens and a budget brought to its vote."""

from __future__ import annotations

from typing import Any

from tests.conftest import ADMIN_TOKEN, api_token

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PREFIX = "/participation/budgets"


def org(client: Any, name: str) -> None:
    r = client.post("/api/3/action/organization_create", json={"name": name, "title": name.title()}, headers=ADMIN)
    assert r.status_code == 200, r.text


def steward(client: Any, org_name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, 'steward-' + org_name, 'steward', org_name)}"}


def budget_in_vote(client: Any, name: str, org_name: str, headers: dict[str, str], amount: int = 100_000,
                   rule: str = "equal_shares", low: int = 1, high: int | None = 3,
                   costs: tuple[int, ...] = (40_000, 30_000, 50_000, 20_000)) -> tuple[dict[str, Any], list[int]]:
    r = client.post(PREFIX, json={"name": name, "title": name.title(), "owner_org": org_name, "amount": amount,
                                  "rule": rule, "min_choices": low, "max_choices": high}, headers=headers)
    assert r.status_code == 201, r.text
    b = r.json()
    ids = []
    for i, cost in enumerate(costs):
        r = client.post(f"{PREFIX}/{b['id']}/projects", json={"title": f"Project {i}", "cost": cost}, headers=headers)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    for phase in ("review", "vote"):
        r = client.patch(f"{PREFIX}/{b['id']}", json={"phase": phase}, headers=headers)
        assert r.status_code == 200, r.text
    return r.json(), ids


def codes(client: Any, budget_id: int, headers: dict[str, str], count: int) -> list[str]:
    r = client.post(f"{PREFIX}/{budget_id}/codes", json={"count": count}, headers=headers)
    assert r.status_code == 201, r.text
    return list(r.json()["codes"])


def voter_key(client: Any, budget_id: int, code: str) -> str:
    r = client.post(f"{PREFIX}/{budget_id}/verify", json={"code": code})
    assert r.status_code == 201, r.text
    return str(r.json()["voter_key"])
