"""Differential privacy: a dp rule keeps raw Observations from callers below its role on every path and releases
noisy counts and sums whose noise scale is what OpenDP's accounting needs for the rule's ε; the budget of the period
is tracked in the database and a release that would exceed it is refused with a clear message."""

from __future__ import annotations

from typing import Any

import pytest

from urbanos.privacy.rules.dp import measurement

RULE = {"kind": "dp", "epsilon": 0.5, "budget": 1.0, "period": "month", "bounds": [0, 10]}
Q = {"from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00Z"}


@pytest.mark.parametrize(("bad", "field"), [({"budget": -1}, "rules[0].budget"), ({"epsilon": 0}, "rules[0].epsilon"),
                                            ({"bounds": [5, 1]}, "rules[0].bounds")])
def test_bad_dp_rules_are_refused(client: Any, world: dict[str, Any], bad: dict[str, Any], field: str) -> None:
    r = client.put("/privacy/rules/org-a-private", json={"rules": [{**RULE, **bad}]}, headers=world["h"]["steward-a"])
    assert r.status_code == 422 and field in r.text


def test_dp_releases_follow_opendp_accounting_and_the_budget(client: Any, world: dict[str, Any]) -> None:
    h = world["h"]
    assert client.put("/privacy/rules/org-a-private", json={"rules": [RULE]}, headers=h["steward-a"]).status_code == 200
    raw = client.get(f"/sta/v1.1/Datastreams({world['stream']})/Observations", headers=h["reader-a"])
    assert raw.status_code == 403 and "/privacy/dp/org-a-private" in raw.text
    assert client.get(f"/sta/v1.1/Datastreams({world['stream']})/Observations", headers=h["steward-a"]).status_code == 200
    got = client.get("/privacy/dp/org-a-private", params={**Q, "statistic": "sum"}, headers=h["reader-a"])
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["mechanism"] == "laplace" and body["sensitivity"] == 10 and body["scale"] == 10 / 0.5
    # OpenDP's own accounting: the mechanism at the published scale, for one Observation's change, costs ε
    assert measurement(body["scale"]).map(body["sensitivity"]) == pytest.approx(0.5)
    assert body["budget"] == {"period": body["budget"]["period"], "total": 1.0, "left": 0.5}
    count = client.get("/privacy/dp/org-a-private", params={**Q, "statistic": "count"}, headers=h["reader-a"]).json()
    assert count["scale"] == 2.0 and measurement(2.0).map(1.0) == pytest.approx(0.5) and count["budget"]["left"] == 0
    spent = client.get("/privacy/dp/org-a-private", params={**Q, "statistic": "count"}, headers=h["reader-a"])
    assert spent.status_code == 429 and "budget" in spent.text and "spent" in spent.text
    for bad in ({"statistic": "mean"}, {"statistic": "count", "from": "yesterday"}):
        assert client.get("/privacy/dp/org-a-private", params={**Q, **bad}, headers=h["reader-a"]).status_code == 400
    assert client.get("/privacy/dp/org-b-private", params={**Q, "statistic": "count"},
                      headers=h["reader-a"]).status_code == 404
    assert client.get("/privacy/dp/open-data", params={**Q, "statistic": "count"}).status_code == 404  # no dp rule
