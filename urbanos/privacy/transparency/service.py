"""What the transparency page shows, gathered for one viewer: only datasets the viewer may read are named (the page
never tells that hidden data exists), and of the assessments the approved ones and those the viewer may read.

Also the contacts for objections: one per organisation, set by a steward of that organisation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.core.time import now_stored
from urbanos.errors import NotFound
from urbanos.governance import Identity
from urbanos.ports import AuditPort
from urbanos.privacy.dpia.model import SECTIONS
from urbanos.privacy.retention.service import Rule, rules_json
from urbanos.privacy.retention.shared import MAX_NAME, body_object, only_keys, require_steward, text

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection


def _visible(platform: Platform, c: Connection, identity: Identity) -> dict[str, dict[str, Any]]:
    sql, params = platform.gate.dataset_row_filter(identity, "d")
    return {r["name"]: r for r in c.rows(
        f"SELECT d.id, d.name, d.title, d.owner_org, d.access_level FROM datasets d WHERE d.state = 'active' AND {sql}",
        params)}


class Transparency:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db

    async def contacts(self) -> list[dict[str, Any]]:
        return await self.db.read(lambda c: c.rows(
            "SELECT o.name AS organization, o.title, p.contact, p.note FROM organizations o"
            " LEFT JOIN privacy_contacts p ON p.org = o.name ORDER BY o.name"))

    async def set_contact(self, identity: Identity, org: str, body: Any) -> dict[str, Any]:
        b = body_object(body)
        only_keys(b, {"contact", "note"})
        contact = text(b, "contact", limit=500)
        note = text(b, "note", required=False, limit=2000) or ""

        def write(c: Connection) -> dict[str, Any]:
            if len(org) > MAX_NAME or c.fetchone("SELECT 1 FROM organizations WHERE name = ?", (org,)) is None:
                raise NotFound(f"There is no organisation {org[:MAX_NAME]!r}.")
            require_steward(identity, org)
            c.execute("DELETE FROM privacy_contacts WHERE org = ?", (org,))
            c.insert("privacy_contacts", {"org": org, "contact": contact, "note": note, "changed_at": now_stored(),
                                          "changed_by": identity.subject}, returning="org")
            return {"organization": org, "contact": contact, "note": note}
        out = await self.db.write(write)
        if (audit := self.platform.optional(AuditPort)) is not None:
            audit.record(identity.subject, "contact.changed", "organization", org, org=org)
        return out

    async def page(self, identity: Identity, lang: str) -> dict[str, Any]:
        """Everything the page shows, as JSON-able data (also served as ``/transparency?f=json``)."""
        algorithms = await self.platform.services["algorithms"].entries(identity)
        by_dataset: dict[str, list[dict[str, Any]]] = {}
        for a in algorithms:
            for d in a["datasets"]:
                by_dataset.setdefault(d, []).append({"id": a["id"], "name": a["record"].get("name")})
        assessments = await self.platform.services["privacy_dpias"].list(identity)
        heading = {s[0]: (s[3] if lang == "de" else s[2]) for s in SECTIONS}

        def read(c: Connection) -> dict[str, Any]:
            visible = _visible(self.platform, c, identity)
            rules: dict[str, list[Any]] = {}
            for r in c.rows("SELECT dataset, scope, ref, days, time_property FROM privacy_retention ORDER BY dataset, scope"):
                rules.setdefault(r["dataset"], []).append(r)
            marks = c.rows("SELECT kind, ref, label, org FROM privacy_person_related ORDER BY kind, label")
            consent = {r["dataset"]: r for r in c.rows("SELECT dataset, purpose, recipient FROM privacy_consent_datasets")}
            ruled = {r[0] for r in c.fetchall("SELECT dataset FROM privacy_rules")}
            deletions = [r for r in c.rows("SELECT at, dataset, org, scope, ref, days, before_time, row_count, what"
                                           " FROM privacy_deletions ORDER BY id DESC LIMIT 500") if r["dataset"] in visible]
            return {"visible": visible, "rules": rules, "marks": marks, "consent": consent, "deletions": deletions[:200],
                    "ruled": ruled}
        facts = await self.db.read(read)
        visible = facts["visible"]
        dpia_of: dict[tuple[str, str], dict[str, Any]] = {}
        for a in assessments:
            key = (a["kind"], a["ref"])
            if key not in dpia_of or a["state"] == "approved":
                dpia_of[key] = a
        person = {(m["kind"], m["ref"]) for m in facts["marks"]}
        names = sorted(set(facts["rules"]) | facts["ruled"] | {m["ref"] for m in facts["marks"] if m["kind"] == "dataset"}
                       | set(facts["consent"]) | set(by_dataset) | {a["ref"] for a in assessments if a["kind"] == "dataset"})
        datasets = []
        summaries = self.platform.services.get("privacy_rules")
        for name in names:
            ds = visible.get(name)
            if ds is None:
                continue
            said = await summaries.summary(name, lang) if summaries is not None and name in facts["ruled"] else []
            dpia = dpia_of.get(("dataset", name))
            datasets.append({
                "name": name, "title": ds["title"] or name, "organization": ds["owner_org"],
                "access_level": ds["access_level"], "person_related": ("dataset", name) in person,
                "purposes": (dpia or {}).get("sections", {}).get("purposes") if dpia and dpia["state"] == "approved" else None,
                "legal_basis": (dpia or {}).get("sections", {}).get("legal_basis") if dpia and dpia["state"] == "approved" else None,
                "consent": facts["consent"].get(name), "privacy_rules": said, "retention": rules_json_rows(facts["rules"].get(name, [])),
                "algorithms": by_dataset.get(name, []),
                "assessment": {"id": dpia["id"], "state": dpia["state"]} if dpia else None})
        properties = [{"id": m["ref"], "label": m["label"], "organization": m["org"],
                       "assessment": ({"id": dpia_of[("observed_property", m["ref"])]["id"],
                                       "state": dpia_of[("observed_property", m["ref"])]["state"]}
                                      if ("observed_property", m["ref"]) in dpia_of else None)}
                      for m in facts["marks"] if m["kind"] == "observed_property"]
        shown = [a for a in assessments if a["kind"] != "dataset" or a["ref"] in visible]
        return {"datasets": datasets, "observed_properties": properties, "algorithms": [
                    {"id": a["id"], "name": a["record"].get("name"), "organization": a["owner_org"],
                     "datasets": a["datasets"]} for a in algorithms],
                "assessments": [{"id": a["id"], "kind": a["kind"], "target": a["ref"], "label": a["label"],
                                 "organization": a["org"], "state": a["state"], "decided_at": a["decided_at"],
                                 "sections": [{"key": k, "heading": heading[k], "text": a["sections"][k]}
                                              for k in heading if a["sections"].get(k)]} for a in shown],
                "deletions": facts["deletions"], "contacts": await self.contacts()}


def rules_json_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The retention of a dataset (as :func:`~urbanos.privacy.retention.service.rules_json`) from table rows."""
    return rules_json([Rule(0, r["dataset"], None, r["scope"], r["ref"], int(r["days"]), r["time_property"]) for r in rows])


__all__ = ["Transparency"]
