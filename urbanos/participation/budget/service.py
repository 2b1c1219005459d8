"""Participatory budgets: what the HTTP API, the pages and the CLI do (``platform.services["budgets"]``).

Phases go forward only: ``ideas`` (projects are added) → ``review`` (the feasibility review keeps or drops them and
may correct costs) → ``vote`` (ballots) → ``results`` (the vote is closed, the ballots are counted and published).
Every write needs a steward of the budget's organisation (a steward of another organisation is refused).

Voting (design in docs/budgets.md): a resident proves she may vote with a one-time code from a letter (exchanged
once for a voter key) or with a registered API token. The voters table holds only ``HMAC(budget key, credential)``
and "has voted"; the ballot sits under a random id with ``HMAC(budget key, "ballot" + credential)`` so that the same
credential replaces it while the vote is open. Closing the vote deletes the budget key and those ballot HMACs:
from then on, nobody (not even with the database and the server) can link a ballot to a voter.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import orjson

from urbanos.core.time import now_stored
from urbanos.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from urbanos.governance import Identity
from urbanos.participation.budget import pabulib, store
from urbanos.participation.budget.fields import MAX_AMOUNT, obj, text, whole
from urbanos.participation.budget.ideas import Ideas
from urbanos.participation.budget.rules import check_ballot
from urbanos.participation.budget.tally import RULES, results
from urbanos.participation.planning.model import geojson, geometry
from urbanos.platform import Platform
from urbanos.ports import AuditPort
from urbanos.storage import Connection

PHASES = ("ideas", "review", "vote", "results")
MAX_CODES = 10_000
RESERVED = ("new",)  # a path of the stewards' pages


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


class BudgetService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db
        self.ideas = Ideas(self)

    def audit(self, ident: Identity, action: str, budget: dict[str, Any], **details: Any) -> None:
        """Stewards' acts on a budget go to the audit trail when the platform keeps one (never a code or a key)."""
        audit = self.platform.optional(AuditPort)
        if audit is not None:
            audit.record(ident.subject, action, "Budget", budget["id"], org=budget["owner_org"], details=details)

    # -- budgets ------------------------------------------------------------------------------------------------
    def steward(self, ident: Identity, org: str) -> None:
        if ident.is_anonymous:
            raise Unauthorized("Sign in with a steward's token of the budget's organisation.")
        if not ident.has_role("steward", org):
            raise Forbidden(f"Only a steward of {org!r} may change this budget.")

    async def create(self, ident: Identity, body: Any) -> dict[str, Any]:
        b = obj(body)
        org = text(b, "owner_org", 100)
        self.steward(ident, org)
        rule = b.get("rule", "equal_shares")
        if rule not in RULES:
            raise ValidationFailed(f"rule is one of {', '.join(RULES)}.", detail={"field": "rule"})
        low = whole(b, "min_choices", 0, 1000, 1) or 0
        high = whole(b, "max_choices", 1, 1000)
        if high is not None and high < low:
            raise ValidationFailed("max_choices is at least min_choices.", detail={"field": "max_choices"})
        currency = text(b, "currency", 3, required=False) or "EUR"
        values = {"name": text(b, "name", 100), "title": text(b, "title", 200),
                  "description": text(b, "description", 5000, required=False), "owner_org": org,
                  "amount": whole(b, "amount", 1, MAX_AMOUNT, 0), "currency": currency.upper(), "phase": "ideas",
                  "rule": rule, "min_choices": low, "max_choices": high, "created_at": now_stored(),
                  "modified_at": now_stored()}
        if not values["name"].replace("-", "").isalnum() or not values["name"].isascii() or values["name"] in RESERVED:
            raise ValidationFailed("name is lower-case letters, digits and hyphens (not 'new').",
                                   detail={"field": "name"})
        values.update(_area_and_districts(b), author_key=secrets.token_hex(32))

        def tx(c: Connection) -> int:
            if not store.org_exists(c, org):
                raise ValidationFailed(f"There is no organisation {org!r}.", detail={"field": "owner_org"})
            if store.budget_by_name(c, values["name"]) is not None:
                raise Conflict(f"A budget named {values['name']!r} exists.")
            return store.insert_budget(c, values)

        return await self.get(await self.db.write(tx))

    async def get(self, ref: int | str) -> dict[str, Any]:
        budget = await self.db.read(lambda c: store.budget(c, ref))
        if budget is None:
            raise NotFound(f"Budget {str(ref)[:60]!r} does not exist.")
        return budget

    async def listing(self) -> list[dict[str, Any]]:
        return await self.db.read(store.budgets)

    async def projects(self, budget: dict[str, Any]) -> list[dict[str, Any]]:
        rows = await self.db.read(lambda c: store.projects(c, budget["id"]))
        return rows if budget["phase"] in ("ideas", "review") else [p for p in rows if p["feasible"]]

    async def set_phase(self, ident: Identity, ref: int | str, body: Any) -> dict[str, Any]:
        budget = await self.get(ref)
        self.steward(ident, budget["owner_org"])
        phase = obj(body).get("phase")
        if phase not in PHASES:
            raise ValidationFailed(f"phase is one of {', '.join(PHASES)}.", detail={"field": "phase"})
        if PHASES.index(phase) != PHASES.index(budget["phase"]) + 1:
            raise Conflict(f"The budget is in phase {budget['phase']!r}; the next phase is the only one allowed.")

        def tx(c: Connection) -> None:
            if phase == "vote":
                if not store.projects(c, budget["id"], feasible_only=True):
                    raise Conflict("A vote needs at least one feasible project.")
                store.update_budget(c, budget["id"], phase=phase, voter_key=secrets.token_hex(32))
            elif phase == "results":
                store.close_vote(c, budget["id"])
            else:
                store.update_budget(c, budget["id"], phase=phase)

        await self.db.write(tx)
        self.audit(ident, f"budget.{phase}", budget)
        if phase == "results":
            await self.tally(budget["id"])
        return await self.get(budget["id"])

    # -- projects -----------------------------------------------------------------------------------------------
    async def add_project(self, ident: Identity, ref: int | str, body: Any) -> dict[str, Any]:
        budget = await self.get(ref)
        self.steward(ident, budget["owner_org"])
        b = obj(body)
        if budget["phase"] != "ideas":
            raise Conflict("Projects are added in the ideas phase.")
        values = {"budget_id": budget["id"], "title": text(b, "title", 200),
                  "description": text(b, "description", 5000, required=False),
                  "cost": whole(b, "cost", 0, MAX_AMOUNT, 0), "feasible": 1, "created_at": now_stored()}
        pid = await self.db.write(lambda c: store.insert_project(c, values))
        return {"id": pid, **{k: values[k] for k in ("title", "description", "cost")}, "feasible": True,
                "idea_id": None, "review_reason": None}

    async def review_project(self, ident: Identity, ref: int | str, pid: int, body: Any) -> dict[str, Any]:
        """Change a project: its title, description and cost in the ideas and review phases; in the review phase
        also whether it is kept (``feasible``) and why (``reason``, published)."""
        budget = await self.get(ref)
        self.steward(ident, budget["owner_org"])
        b = obj(body)
        changes: dict[str, Any] = {}
        for key, limit in (("title", 200), ("description", 5000)):
            if key in b:
                changes[key] = text(b, key, limit, required=key == "title")
        if "feasible" in b:
            if not isinstance(b["feasible"], bool):
                raise ValidationFailed("feasible is true or false.", detail={"field": "feasible"})
            changes["feasible"] = int(b["feasible"])
        if "reason" in b:
            changes["review_reason"] = text(b, "reason", 1000, required=False) or None
        if "cost" in b:
            changes["cost"] = whole(b, "cost", 0, MAX_AMOUNT)
        if not changes:
            raise ValidationFailed("Name at least one of title, description, cost, feasible, reason.",
                                   detail={"field": "body"})
        if budget["phase"] not in ("ideas", "review"):
            raise Conflict("Projects are changed in the ideas and feasibility review phases.")
        if budget["phase"] != "review" and ("feasible" in changes or "review_reason" in changes):
            raise Conflict("Projects are reviewed in the feasibility review phase.")

        def tx(c: Connection) -> dict[str, Any]:
            if store.project(c, budget["id"], pid) is None:
                raise NotFound(f"Project {pid} is not a project of this budget.")
            store.update_project(c, pid, changes)
            found = store.project(c, budget["id"], pid)
            assert found is not None
            return found

        out = await self.db.write(tx)
        self.audit(ident, "budget.project.changed", budget, project=pid, fields=sorted(changes))
        return out

    # -- codes and ballots --------------------------------------------------------------------------------------
    async def make_codes(self, ident: Identity, ref: int | str, count: Any) -> list[str]:
        budget = await self.get(ref)
        self.steward(ident, budget["owner_org"])
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_CODES:
            raise ValidationFailed(f"count is a whole number from 1 to {MAX_CODES}.", detail={"field": "count"})
        if budget["phase"] == "results":
            raise Conflict("The vote is closed.")
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        codes = ["-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3)) for _ in range(count)]
        await self.db.write(lambda c: store.insert_codes(c, budget["id"], [code_hash(x) for x in codes]))
        self.audit(ident, "budget.codes", budget, count=count)
        return codes

    def _open(self, budget: dict[str, Any]) -> str:
        if budget["phase"] != "vote" or not budget.get("voter_key"):
            raise Conflict("The vote is not open." if budget["phase"] != "results" else "The vote is closed.",
                           code="vote_not_open")
        return str(budget["voter_key"])

    async def verify(self, ref: int | str, code: Any) -> str:
        """Exchange a letter's one-time code for a voter key (the code cannot be used again)."""
        budget = await self.get(ref)
        key = self._open(budget)
        if not isinstance(code, str) or not 4 <= len(code) <= 64:
            raise ValidationFailed("code is the code printed on the letter.", detail={"field": "code"})
        voter_key = "vk_" + secrets.token_urlsafe(24)

        def tx(c: Connection) -> None:
            if not store.use_code(c, budget["id"], code_hash(code)):
                raise Forbidden("This code is unknown or was already used.", code="code_refused")
            store.add_voter(c, budget["id"], _mac(key, "key:" + voter_key))

        await self.db.write(tx)
        return voter_key

    async def validate(self, budget: dict[str, Any], choices: Any) -> str:
        """Refuse a ballot the vote does not take (closed vote, malformed, unknown project, too few or too many);
        the vote's HMAC key otherwise."""
        key = self._open(budget)
        if not isinstance(choices, list) or any(isinstance(x, bool) or not isinstance(x, int) for x in choices):
            raise ValidationFailed("projects is a list of project ids.", detail={"field": "projects"})
        feasible = [p["id"] for p in await self.projects(budget)]
        why = check_ballot(feasible, choices, budget["min_choices"], budget["max_choices"])
        if why:
            raise ValidationFailed(_WHY[why].format(lo=budget["min_choices"], hi=budget["max_choices"]),
                                   code=why, detail={"field": "projects"})
        return key

    async def cast(self, ref: int | str, credential: str, choices: Any) -> dict[str, Any]:
        """Store (or replace) the ballot of the voter the credential names: ``key:<voter key>`` or ``id:<subject>``."""
        budget = await self.get(ref)
        key = await self.validate(budget, choices)
        voter = _mac(key, credential)

        def tx(c: Connection) -> str:
            if credential.startswith("key:") and not store.voter_exists(c, budget["id"], voter):
                raise Unauthorized("This voter key is not valid for this budget.")
            if credential.startswith("id:"):
                store.add_voter(c, budget["id"], voter, ignore_existing=True)
            changed = store.put_ballot(c, budget["id"], _mac(key, "ballot:" + credential),
                                       orjson.dumps(sorted(choices)).decode(), secrets.token_hex(16))
            store.mark_voted(c, budget["id"], voter)
            return "changed" if changed else "cast"

        return {"status": await self.db.write(tx), "projects": sorted(choices)}

    # -- counting -----------------------------------------------------------------------------------------------
    async def ballots(self, budget_id: int) -> list[frozenset[int]]:
        raw = await self.db.read(lambda c: store.ballots(c, budget_id))
        return [frozenset(int(x) for x in orjson.loads(r)) for r in raw]

    def tally_sync(self, budget: dict[str, Any], progress: Any = None, publish: bool = True) -> dict[str, Any]:
        projects = self.db.read_sync(lambda c: store.projects(c, budget["id"]))
        raw = self.db.read_sync(lambda c: store.ballots(c, budget["id"]))
        out = results(budget, projects, [frozenset(int(x) for x in orjson.loads(r)) for r in raw], progress)
        if publish:
            self.db.write_sync(lambda c: store.save_results(c, budget["id"], orjson.dumps(out).decode(), now_stored()))
        return out

    async def tally(self, budget_id: int) -> dict[str, Any]:
        budget = await self.get(budget_id)
        projects = await self.db.read(lambda c: store.projects(c, budget_id))
        out = results(budget, projects, await self.ballots(budget_id))
        await self.db.write(lambda c: store.save_results(c, budget_id, orjson.dumps(out).decode(), now_stored()))
        return out

    async def results(self, ref: int | str) -> dict[str, Any]:
        budget = await self.get(ref)
        if budget["phase"] != "results" or not budget.get("results"):
            raise NotFound("The results are published when the vote has closed.", code="no_results")
        return {"budget": public(budget), **orjson.loads(budget["results"])}


    async def ballots_pb(self, ref: int | str) -> tuple[str, str]:
        """The closed vote's ballots in the pabulib format (no voter can be named: ids are the ballots' positions in
        the order of their random ids); the file name and the text."""
        budget = await self.get(ref)
        if budget["phase"] != "results":
            raise NotFound("The ballots are published when the vote has closed.", code="no_results")
        projects = await self.db.read(lambda c: store.projects(c, budget["id"], feasible_only=True))
        ballots = await self.ballots(budget["id"])
        funded = set(orjson.loads(budget["results"])["funded"]) if budget.get("results") else set()
        votes = {p["id"]: sum(1 for b in ballots if p["id"] in b) for p in projects}
        meta = {"description": _inert(budget["title"]), "country": "", "unit": _inert(budget["owner_org"]),
                "instance": budget["name"], "num_projects": len(projects), "num_votes": len(ballots),
                "budget": budget["amount"], "vote_type": "approval",
                "rule": {"equal_shares": "equalshares/add1", "greedy": "greedy", "knapsack": "knapsack"}[budget["rule"]],
                "min_length": budget["min_choices"], "max_length": budget["max_choices"] or ""}
        rows = [{"project_id": p["id"], "cost": p["cost"], "votes": votes[p["id"]], "name": _inert(p["title"]),
                 "selected": int(p["id"] in funded)} for p in projects]
        voters = [{"voter_id": f"v{i}", "vote": ",".join(str(x) for x in sorted(b))}
                  for i, b in enumerate(ballots, start=1)]
        return f"{budget['name']}.pb", pabulib.dump(meta, rows, voters)


def _inert(text: str) -> str:
    """A text cell a spreadsheet will not take for a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


_WHY = {"duplicate": "A project is named twice.", "unknown_project": "A project is not one of this vote's projects.",
        "too_few": "Choose at least {lo} projects.", "too_many": "Choose at most {hi} projects."}


def _mac(key: str, text: str) -> str:
    return hmac.new(bytes.fromhex(key), text.encode(), hashlib.sha256).hexdigest()


def public(budget: dict[str, Any]) -> dict[str, Any]:
    """A budget as published (no key, no stored result text)."""
    out = {k: v for k, v in budget.items() if k not in ("voter_key", "results", "author_key")}
    for key in ("area", "districts"):
        if key in out:
            out[key] = orjson.loads(out[key]) if out[key] else None
    return out


def _area_and_districts(b: dict[str, Any]) -> dict[str, Any]:
    """The optional ``area`` (a GeoJSON Polygon or MultiPolygon ideas must lie in) and ``districts`` (names)."""
    out: dict[str, Any] = {"area": None, "districts": None}
    if b.get("area") is not None:
        out["area"] = geojson(geometry(b["area"], "area", ("Polygon", "MultiPolygon")))
    names = b.get("districts")
    if names is not None:
        if (not isinstance(names, list) or len(names) > 100
                or any(not isinstance(n, str) or not n.strip() or len(n) > 100 for n in names)):
            raise ValidationFailed("districts is a list of at most 100 names of 1 to 100 characters.",
                                   detail={"field": "districts"})
        out["districts"] = orjson.dumps(sorted({n.strip() for n in names})).decode() if names else None
    return out


__all__ = ["BudgetService", "PHASES", "public", "code_hash"]
