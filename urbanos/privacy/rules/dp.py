"""Differentially private releases (``GET /privacy/dp/{dataset}?statistic=count|sum&from=…&to=…``) of a dataset whose
``dp`` rule designates them: the count or the sum (each value clamped to the rule's ``bounds``) of its Observations
in the time range, with Laplace noise from OpenDP at scale sensitivity / ε, ε charged to the dataset's budget of the
current period (``privacy_dp_budget``, in the same transaction that checks it; refused with 429 naming what is spent
when a release would exceed it). The answer publishes the noise scale, ε and the budget left."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from urbanos.core.time import format_stored, parse_utc
from urbanos.errors import BadRequest, NotFound, TooManyRequests
from urbanos.governance import ADMIN, Identity
from urbanos.ports import SensingPort
from urbanos.privacy.rules.keys import period_id
from urbanos.privacy.rules.model import Rule

if TYPE_CHECKING:
    from urbanos.privacy.rules.service import RulesService
    from urbanos.storage import Connection

MAX_VALUES = 200_000


def measurement(scale: float) -> Any:
    """OpenDP's Laplace mechanism on one real number at ``scale``."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp.m.make_laplace(dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale)


def sensitivity(rule: Rule, statistic: str) -> float:
    """How much one Observation can change the statistic: 1 for a count, the largest bound's size for a sum."""
    return 1.0 if statistic == "count" else max(abs(rule.bounds[0]), abs(rule.bounds[1]))


def _instant(text: str | None, name: str) -> str:
    if not text:
        raise BadRequest(f"{name}: an ISO 8601 instant is required.", detail={name: ["required"]})
    try:
        return format_stored(parse_utc(text))
    except (ValueError, TypeError, OverflowError):
        raise BadRequest(f"{name}: {text!r} is not an ISO 8601 instant.", detail={name: ["an ISO 8601 instant"]}) from None


async def _values(sensing: SensingPort, dataset: str, start: str, end: str) -> list[float]:
    """The numeric results of the dataset's Observations with phenomenonTime in [start, end) (read as the admin)."""
    out: list[float] = []
    for sensor in await sensing.dataset_sensors(ADMIN, dataset, 10_000):
        for ds_id, _name, _unit in sensor.datastreams:
            query = {"$select": "result", "$top": "1000", "$filter": f"phenomenonTime ge {start[:19]}Z and "
                     f"phenomenonTime lt {end[:19]}Z"}
            while True:
                body = await sensing.read_path("v1.1", f"Datastreams({ds_id})/Observations", query, ADMIN, "http://dp")
                out.extend(float(o["result"]) for o in body.get("value", [])
                           if isinstance(o.get("result"), (int, float)) and not isinstance(o.get("result"), bool))
                if len(out) > MAX_VALUES:
                    raise BadRequest(f"The time range holds more than {MAX_VALUES} Observations; ask a shorter one.")
                nxt = body.get("@iot.nextLink")
                if not nxt:
                    break
                query = dict(parse_qsl(urlsplit(str(nxt)).query))
    return out


def _charge(c: Connection, ds_id: int, period: str, epsilon: float, budget: float) -> float:
    """Charge ε to the budget of ``period`` (429 when it would be exceeded); what is left."""
    row = c.fetchone("SELECT spent FROM privacy_dp_budget WHERE dataset_id = ? AND period = ?", (ds_id, period))
    spent = float(row[0]) if row else 0.0
    if spent + epsilon > budget + 1e-12:
        raise TooManyRequests(f"The privacy budget of this dataset for {period} is spent ({spent:g} of {budget:g}; a "
                              f"release costs ε = {epsilon:g}). No more releases until the next period.",
                              code="privacy_budget_spent")
    if row:
        c.execute("UPDATE privacy_dp_budget SET spent = spent + ?, releases = releases + 1 WHERE dataset_id = ?"
                  " AND period = ?", (epsilon, ds_id, period))
    else:
        c.execute("INSERT INTO privacy_dp_budget (dataset_id, period, spent, releases) VALUES (?, ?, ?, 1)",
                  (ds_id, period, epsilon))
    return budget - spent - epsilon


async def release(service: RulesService, identity: Identity, key: str, statistic: str, start: str | None,
                  end: str | None) -> dict[str, Any]:
    ds = await service.db.read(lambda c: service.dataset_for(c, identity, key))
    rs = service.store.current(ds.id)
    rule = next((r for r in rs.rules if r.kind == "dp"), None) if rs is not None else None
    if rule is None:
        raise NotFound(f"Dataset {ds.name!r} has no differentially private releases (no dp rule).")
    if statistic not in ("count", "sum"):
        raise BadRequest("statistic: count or sum is required.", detail={"statistic": ["count or sum"]})
    lo, hi = _instant(start, "from"), _instant(end, "to")
    values = await _values(service.platform.require(SensingPort), ds.name, lo, hi)
    exact = float(len(values)) if statistic == "count" else sum(min(max(v, rule.bounds[0]), rule.bounds[1])
                                                                   for v in values)
    scale = sensitivity(rule, statistic) / rule.epsilon
    period = period_id(rule.period)
    left = await service.db.write(lambda c: _charge(c, ds.id, period, rule.epsilon, rule.budget))
    noisy = float(measurement(scale)(exact))
    service.audit(identity, "dp.released", ds, {"statistic": statistic, "epsilon": rule.epsilon, "from": lo, "to": hi})
    return {"dataset": ds.name, "statistic": statistic, "from": lo, "to": hi, "value": noisy, "mechanism": "laplace",
            "scale": scale, "sensitivity": sensitivity(rule, statistic), "epsilon": rule.epsilon,
            "bounds": list(rule.bounds) if statistic == "sum" else None,
            "budget": {"period": period, "total": rule.budget, "left": max(0.0, left)}}


__all__ = ["release", "measurement", "sensitivity"]
