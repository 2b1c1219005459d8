"""Person-related marks and data protection impact assessments, and the write checks that wait for an approval.

A steward of the owning organisation marks a dataset or an ObservedProperty person-related and writes its assessment
(a draft, changed freely, then submitted); a steward of the data-protection organisation (setting ``privacy_dpo_org``)
approves or rejects it (a rejected one may be changed and submitted again). Until an assessment of the target is
approved, a person-related dataset cannot be made open (the catalogue's ``dataset.access`` write check) and a
person-related ObservedProperty receives no Observations (sensing's ``observation`` write check); the refusal names
the missing approval."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from urbanos.core.numbers import parse_int
from urbanos.core.time import now_stored
from urbanos.errors import Conflict, Forbidden, NotFound, ValidationFailed
from urbanos.governance import Gate, Identity
from urbanos.ports import AuditPort, SensingPort
from urbanos.privacy.consent.state import PrivacyState
from urbanos.privacy.dpia.model import KEYS, KINDS, MAX_SECTION, REQUIRED
from urbanos.privacy.retention.shared import (
    MAX_NAME,
    body_object,
    bump_stamp,
    only_keys,
    require_steward,
    text,
    visible_dataset,
    writable_dataset,
)

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

STA_VERSION = "v1.1"
_COLS = ("id, kind, ref, label, org, state, sections, version, created_at, created_by, modified_at, modified_by,"
         " decided_at, decided_by, decision_note")


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if k != "sections"}, "sections": json.loads(row["sections"])}


def _state_of(c: Connection, kind: str, ref: str) -> str | None:
    """The best state of the target's assessments (approved before submitted before draft/rejected), or None."""
    states = {r[0] for r in c.fetchall("SELECT state FROM privacy_dpias WHERE kind = ? AND ref = ?", (kind, ref))}
    for s in ("approved", "submitted", "draft", "rejected"):
        if s in states:
            return s
    return None


def _missing(what: str, state: str | None) -> str:
    have = "no assessment exists yet" if state is None else f"its assessment is {state!r}"
    return (f"{what} is marked person-related: a data protection impact assessment approved by the data-protection "
            f"organisation is missing ({have}).")


def _property_id(ref: Any) -> int | None:
    """The id an ObservedProperty target names (an integer, or its digits), or None."""
    n = ref if isinstance(ref, int) and not isinstance(ref, bool) else parse_int(ref, lo=1) \
        if isinstance(ref, str) and len(ref) < 20 else None
    return n if n is not None and 0 < n < 2**63 else None


class Assessments:
    def __init__(self, platform: Platform, state: PrivacyState) -> None:
        self.platform = platform
        self.db = platform.db
        self.state = state
        self.dpo_org = str(platform.settings.get("privacy_dpo_org", "") or "") or None

    def _audit(self) -> AuditPort | None:
        return self.platform.optional(AuditPort)

    # -- the target of a mark or an assessment -----------------------------------------------------------------
    def _target(self, c: Connection, identity: Identity, kind: Any, ref: Any,
                seen: bool) -> tuple[str, str, str, str | None]:
        """``(kind, ref, label, org)`` of a dataset (by name) or an ObservedProperty (by id) whose marks and
        assessments ``identity`` may write: a steward of its organisation. Without that role, a target the caller
        may not read (``seen``: whether it may read the ObservedProperty) is answered as one that does not exist."""
        if kind not in KINDS:
            raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}.", detail={"field": "kind"})
        if kind == "dataset":
            ds = writable_dataset(self.platform, c, identity, ref)
            return kind, ds.name, ds.title or ds.name, ds.owner_org
        n = _property_id(ref)
        sensing = self.platform.optional(SensingPort)
        found = sensing.observed_property(c, n) if sensing is not None and n is not None else None
        if found is None or (not seen and not identity.has_role("steward", found[1])):
            raise NotFound(f"There is no ObservedProperty {str(ref)[:MAX_NAME]!r}.")
        require_steward(identity, found[1])
        return kind, str(n), found[0], found[1]

    async def _seen(self, identity: Identity, kind: Any, ref: Any) -> bool:
        """Whether ``identity`` may read the ObservedProperty ``ref`` (as SensorThings answers it; True for a
        dataset, which :meth:`_target` checks itself)."""
        n = _property_id(ref) if kind == "observed_property" else None
        sensing = self.platform.optional(SensingPort)
        if n is None or sensing is None:
            return kind != "observed_property"
        return await sensing.entity_json(STA_VERSION, "ObservedProperties", n, identity, "", ["id"]) is not None

    # -- person-related marks ----------------------------------------------------------------------------------
    async def marks(self, identity: Identity) -> list[dict[str, Any]]:
        """The marks on what ``identity`` may see: a dataset whose privacy settings it may read (its readers and its
        organisation's stewards), an ObservedProperty it may read or whose organisation's steward it is. A mark on
        anything else is left out, as the mark's own write answers it as missing."""
        def read(c: Connection) -> list[dict[str, Any]]:
            out = []
            for m in c.rows("SELECT kind, ref, label, org, marked_at FROM privacy_person_related ORDER BY kind, label"):
                if m["kind"] == "dataset":
                    try:
                        visible_dataset(self.platform, c, identity, m["ref"])
                    except NotFound:
                        continue
                out.append(m)
            return out

        rows = await self.db.read(read)
        return [m for m in rows if m["kind"] == "dataset"
                or (not identity.is_anonymous and identity.has_role("steward", m["org"]))
                or await self._seen(identity, m["kind"], m["ref"])]

    async def mark(self, identity: Identity, body: Any) -> dict[str, Any]:
        b = body_object(body)
        only_keys(b, {"kind", "target", "person_related"})
        flag = b.get("person_related")
        if not isinstance(flag, bool):
            raise ValidationFailed("person_related must be true or false.", detail={"field": "person_related"})
        if "target" not in b:
            raise ValidationFailed("target is required.", detail={"field": "target"})
        seen = await self._seen(identity, b.get("kind"), b.get("target"))

        def write(c: Connection) -> dict[str, Any]:
            kind, ref, label, org = self._target(c, identity, b.get("kind"), b.get("target"), seen)
            c.execute("DELETE FROM privacy_person_related WHERE kind = ? AND ref = ?", (kind, ref))
            if flag:
                c.insert("privacy_person_related", {"kind": kind, "ref": ref, "label": label, "org": org,
                                                    "marked_at": now_stored(), "marked_by": identity.subject},
                         returning="kind")
            bump_stamp(c)
            return {"kind": kind, "target": ref, "label": label, "organization": org, "person_related": flag,
                    "assessment": _state_of(c, kind, ref)}
        out = await self.db.write(write)
        await self.state.reload()
        if (audit := self._audit()) is not None:
            audit.record(identity.subject, "dpia.marked" if flag else "dpia.unmarked", out["kind"], out["target"],
                         dataset=out["target"] if out["kind"] == "dataset" else None, org=out["organization"])
        return out

    # -- assessments -------------------------------------------------------------------------------------------
    def _sections(self, b: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, str]:
        raw = b.get("sections", {})
        if not isinstance(raw, dict):
            raise ValidationFailed("sections must be an object.", detail={"field": "sections"})
        out = dict(current or {})
        for key, value in raw.items():
            if key not in KEYS:
                raise ValidationFailed(f"Unknown section {str(key)[:MAX_NAME]!r}; the sections are {', '.join(KEYS)}.",
                                       detail={"field": f"sections.{str(key)[:MAX_NAME]}"})
            if value is None:
                out.pop(key, None)
                continue
            if not isinstance(value, str) or len(value) > MAX_SECTION:
                raise ValidationFailed(f"sections.{key} must be text of at most {MAX_SECTION} characters.",
                                       detail={"field": f"sections.{key}"})
            out[key] = value
        return out

    def _get(self, c: Connection, dpia_id: int) -> dict[str, Any]:
        rows = c.rows(f"SELECT {_COLS} FROM privacy_dpias WHERE id = ?", (dpia_id,))
        if not rows:
            raise NotFound(f"There is no assessment {dpia_id}.")
        return rows[0]

    def _may_read(self, identity: Identity, row: dict[str, Any]) -> bool:
        if row["state"] == "approved":
            return True
        return not identity.is_anonymous and (identity.has_role("publisher", row["org"])
                                              or (self.dpo_org is not None and identity.has_role("steward", self.dpo_org)))

    async def list(self, identity: Identity) -> list[dict[str, Any]]:
        rows = await self.db.read(lambda c: c.rows(f"SELECT {_COLS} FROM privacy_dpias ORDER BY id"))
        return [_json(r) for r in rows if self._may_read(identity, r)]

    async def get(self, identity: Identity, dpia_id: int) -> dict[str, Any]:
        row = await self.db.read(lambda c: self._get(c, dpia_id))
        if not self._may_read(identity, row):
            raise NotFound(f"There is no assessment {dpia_id}.")
        return _json(row)

    async def create(self, identity: Identity, body: Any) -> dict[str, Any]:
        b = body_object(body)
        only_keys(b, {"kind", "target", "sections"})
        if "target" not in b:
            raise ValidationFailed("target is required.", detail={"field": "target"})
        seen = await self._seen(identity, b.get("kind"), b.get("target"))

        def write(c: Connection) -> dict[str, Any]:
            kind, ref, label, org = self._target(c, identity, b.get("kind"), b.get("target"), seen)
            sections = self._sections(b)
            now = now_stored()
            new_id = c.insert("privacy_dpias", {"kind": kind, "ref": ref, "label": label, "org": org, "state": "draft",
                                                "sections": json.dumps(sections, sort_keys=True), "version": 1,
                                                "created_at": now, "created_by": identity.subject, "modified_at": now,
                                                "modified_by": identity.subject})
            bump_stamp(c)
            return self._get(c, int(new_id))
        return await self._done(identity, "dpia.created", write)

    async def change(self, identity: Identity, dpia_id: int, body: Any) -> dict[str, Any]:
        b = body_object(body)
        only_keys(b, {"sections"})

        def write(c: Connection) -> dict[str, Any]:
            row = self._owned(c, identity, dpia_id)
            if row["state"] not in ("draft", "rejected"):
                raise Conflict(f"Assessment {dpia_id} is {row['state']!r}; only a draft or a rejected one can be changed.")
            sections = self._sections(b, json.loads(row["sections"]))
            c.execute("UPDATE privacy_dpias SET sections = ?, state = 'draft', version = version + 1, modified_at = ?,"
                      " modified_by = ? WHERE id = ?", (json.dumps(sections, sort_keys=True), now_stored(),
                                                        identity.subject, dpia_id))
            bump_stamp(c)
            return self._get(c, dpia_id)
        return await self._done(identity, "dpia.changed", write)

    def _owned(self, c: Connection, identity: Identity, dpia_id: int) -> dict[str, Any]:
        row = self._get(c, dpia_id)
        if not self._may_read(identity, row):
            raise NotFound(f"There is no assessment {dpia_id}.")
        require_steward(identity, row["org"])
        return row

    async def transition(self, identity: Identity, dpia_id: int, action: str, body: Any) -> dict[str, Any]:
        b = body_object(body) if body is not None else {}
        only_keys(b, {"note"})
        note = text(b, "note", required=False, limit=MAX_SECTION)

        def write(c: Connection) -> dict[str, Any]:
            if action == "submit":
                row = self._owned(c, identity, dpia_id)
                if row["state"] not in ("draft", "rejected"):
                    raise Conflict(f"Assessment {dpia_id} is {row['state']!r}; only a draft can be submitted.")
                sections = json.loads(row["sections"])
                empty = [k for k in REQUIRED if not str(sections.get(k) or "").strip()]
                if empty:
                    raise ValidationFailed(f"Before it is submitted, the assessment needs the sections: {', '.join(empty)}.",
                                           detail={"field": f"sections.{empty[0]}"})
                c.execute("UPDATE privacy_dpias SET state = 'submitted', modified_at = ?, modified_by = ? WHERE id = ?",
                          (now_stored(), identity.subject, dpia_id))
            else:
                row = self._get(c, dpia_id)
                if identity.is_anonymous:
                    Gate.require(identity, "steward")
                if self.dpo_org is None and not identity.is_admin:
                    raise Forbidden("No data-protection organisation is set (setting privacy_dpo_org); only an admin "
                                    "may decide on assessments.")
                if not self._may_read(identity, row) and not identity.is_admin:
                    raise NotFound(f"There is no assessment {dpia_id}.")
                if not identity.is_admin:
                    require_steward(identity, self.dpo_org)
                if row["state"] != "submitted":
                    raise Conflict(f"Assessment {dpia_id} is {row['state']!r}; only a submitted one can be decided.")
                c.execute("UPDATE privacy_dpias SET state = ?, decided_at = ?, decided_by = ?, decision_note = ?"
                          " WHERE id = ?", ("approved" if action == "approve" else "rejected", now_stored(),
                                            identity.subject, note, dpia_id))
            bump_stamp(c)
            return self._get(c, dpia_id)
        return await self._done(identity, f"dpia.{action}", write)

    async def _done(self, identity: Identity, action: str, write: Any) -> dict[str, Any]:
        row = await self.db.write(write)
        await self.state.reload()
        if (audit := self._audit()) is not None:
            audit.record(identity.subject, action, "dpia", row["id"], org=row["org"],
                         dataset=row["ref"] if row["kind"] == "dataset" else None,
                         details={"state": row["state"], "kind": row["kind"], "target": row["ref"]})
        return _json(row)

    # -- write checks (the gate) -------------------------------------------------------------------------------
    def check_dataset_access(self, c: Connection, identity: Identity | None, facts: dict[str, Any]) -> None:
        if facts.get("access_level") != "open" or facts.get("previous") == "open":
            return
        name = str(facts.get("dataset"))
        if c.fetchone("SELECT 1 FROM privacy_person_related WHERE kind = 'dataset' AND ref = ?", (name,)) is None:
            return
        state = _state_of(c, "dataset", name)
        if state != "approved":
            raise Forbidden(_missing(f"Dataset {name!r}", state) + " It cannot be made open until then.",
                            code="dpia_not_approved")

    def check_observation(self, c: Connection, identity: Identity | None, facts: dict[str, Any]) -> None:
        blocked = self.state.snap.blocked_properties
        if not blocked:
            return
        get = facts.get("observed_properties")
        props = get() if callable(get) else (get or [])
        for op in props:
            if int(op) not in blocked:
                continue
            marked = c.fetchone("SELECT 1 FROM privacy_person_related WHERE kind = 'observed_property' AND ref = ?",
                                (str(op),))
            state = _state_of(c, "observed_property", str(op))
            if marked is not None and state != "approved":
                raise Forbidden(_missing(f"ObservedProperty {op}", state) + " It receives no Observations until then.",
                                code="dpia_not_approved")


__all__ = ["Assessments"]
