"""The consent register.

A citizen (any token: its subject is the PII principal) or a steward of the recipient organisation acting for a
citizen (naming ``principal``) grants consent for one purpose and one recipient; without a consent that holds the
answer is no (default deny). Each grant makes a receipt with the fields of the Kantara Initiative Consent Receipt
Specification v1.1. A revocation ends the consent for that principal, purpose and recipient at once in this process
and within :data:`~urbanos.privacy.consent.state.POLL_SECONDS` in every other (the privacy stamp).

A steward marks a dataset consent-based (``PUT /privacy/consent/datasets/{dataset}``): the field that carries the
subject id in its rows (a top-level value, a feature property or an Observation parameter), the purpose and the
recipient. The gate transform then drops every row whose subject has no consent for that purpose and recipient, on
every read path; rows that carry no subject id (Things, Datastreams) pass."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from urbanos.core.time import now_stored
from urbanos.errors import NotFound, ServiceUnavailable, ValidationFailed
from urbanos.governance import DatasetAccess, Gate, Identity
from urbanos.ports import AuditPort
from urbanos.privacy.consent.state import PrivacyState, subject_of
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

RECEIPT_VERSION = "KI-CR-v1.1.0"


def _receipt_json(row: dict[str, Any]) -> dict[str, Any]:
    receipt = json.loads(row["receipt"])
    return {"receipt": receipt, "state": row["state"], "granted_at": row["granted_at"], "revoked_at": row["revoked_at"]}


class ConsentRegister:
    def __init__(self, platform: Platform, state: PrivacyState) -> None:
        self.platform = platform
        self.db = platform.db
        self.state = state

    def _audit(self) -> AuditPort | None:
        return self.platform.optional(AuditPort)

    # -- grants and revocations --------------------------------------------------------------------------------
    async def grant(self, identity: Identity, body: Any, policy_url: str) -> dict[str, Any]:
        if identity.is_anonymous:
            Gate.require(identity, "reader")
        b = body_object(body)
        only_keys(b, {"purpose", "recipient", "principal", "collection_method", "jurisdiction", "language",
                      "pii_categories", "sensitive", "spi_categories", "service"})
        purpose = text(b, "purpose", limit=MAX_NAME)
        recipient = text(b, "recipient", limit=MAX_NAME)
        principal = text(b, "principal", required=False, limit=MAX_NAME) or identity.subject
        method = text(b, "collection_method", required=False, limit=MAX_NAME) or "api"
        service = text(b, "service", required=False, limit=MAX_NAME) or recipient
        sensitive = b.get("sensitive", False)
        if not isinstance(sensitive, bool):
            raise ValidationFailed("sensitive must be true or false.", detail={"field": "sensitive"})
        lists = {}
        for key in ("pii_categories", "spi_categories"):
            v = b.get(key, [])
            if not isinstance(v, list) or len(v) > 20 or any(not isinstance(x, str) or not x or len(x) > MAX_NAME
                                                              for x in v):
                raise ValidationFailed(f"{key} must be a list of at most 20 short strings.", detail={"field": key})
            lists[key] = v
        if principal != identity.subject:  # a steward of the recipient acting for the citizen
            require_steward(identity, recipient)
        now = datetime.now(UTC)
        receipt = {
            "version": RECEIPT_VERSION,
            "jurisdiction": text(b, "jurisdiction", required=False, limit=MAX_NAME) or "DE",
            "consentTimestamp": int(now.timestamp()),
            "collectionMethod": method,
            "consentReceiptID": str(uuid.uuid4()),
            "language": text(b, "language", required=False, limit=16) or "en",
            "piiPrincipalId": principal,
            "piiControllers": [{"piiController": recipient, "onBehalf": False, "contact": recipient,
                                "piiControllerUrl": policy_url}],
            "policyUrl": policy_url,
            "services": [{"service": service, "purposes": [{
                "purpose": purpose, "purposeCategory": [purpose], "consentType": "EXPLICIT",
                "piiCategory": lists["pii_categories"] or ["subject identifier"], "primaryPurpose": True,
                "termination": "until revoked", "thirdPartyDisclosure": False}]}],
            "sensitive": sensitive,
            "spiCat": lists["spi_categories"],
        }

        def write(c: Connection) -> dict[str, Any]:
            c.insert("privacy_consents", {"receipt_id": receipt["consentReceiptID"], "principal": principal,
                                          "purpose": purpose, "recipient": recipient, "state": "granted",
                                          "granted_at": now_stored(), "made_by": identity.subject,
                                          "receipt": json.dumps(receipt, sort_keys=True)})
            bump_stamp(c)
            return self._row(c, str(receipt["consentReceiptID"]))
        row = await self.db.write(write)
        await self.state.reload()
        if (audit := self._audit()) is not None:
            audit.record(identity.subject, "consent.granted", "consent", receipt["consentReceiptID"], org=recipient,
                         details={"purpose": purpose, "recipient": recipient, "principal": principal})
        return _receipt_json(row)

    @staticmethod
    def _row(c: Connection, receipt_id: str) -> dict[str, Any]:
        rows = c.rows("SELECT receipt_id, principal, purpose, recipient, state, granted_at, revoked_at, made_by, receipt"
                      " FROM privacy_consents WHERE receipt_id = ?", (receipt_id,))
        if not rows:
            raise NotFound(f"There is no consent receipt {receipt_id[:MAX_NAME]!r}.")
        return rows[0]

    async def revoke(self, identity: Identity, receipt_id: str) -> dict[str, Any]:
        if identity.is_anonymous:
            Gate.require(identity, "reader")

        def write(c: Connection) -> dict[str, Any]:
            row = self._row(c, receipt_id)
            mine = identity.subject in (row["principal"], row["made_by"])
            if not mine and not identity.has_role("steward", row["recipient"]):
                raise NotFound(f"There is no consent receipt {receipt_id[:MAX_NAME]!r}.")
            now = now_stored()
            c.execute("UPDATE privacy_consents SET state = 'revoked', revoked_at = ? WHERE principal = ? AND purpose = ?"
                      " AND recipient = ? AND state = 'granted'", (now, row["principal"], row["purpose"], row["recipient"]))
            bump_stamp(c)
            return self._row(c, receipt_id)
        row = await self.db.write(write)
        await self.state.reload()
        if (audit := self._audit()) is not None:
            audit.record(identity.subject, "consent.revoked", "consent", receipt_id, org=row["recipient"],
                         details={"purpose": row["purpose"], "recipient": row["recipient"], "principal": row["principal"]})
        return _receipt_json(row)

    async def receipts(self, identity: Identity) -> list[dict[str, Any]]:
        """The receipts the caller made or whose principal it is, newest first."""
        if identity.is_anonymous:
            Gate.require(identity, "reader")
        rows = await self.db.read(lambda c: c.rows(
            "SELECT receipt_id, principal, purpose, recipient, state, granted_at, revoked_at, made_by, receipt"
            " FROM privacy_consents WHERE principal = ? OR made_by = ? ORDER BY id DESC LIMIT 1000",
            (identity.subject, identity.subject)))
        return [_receipt_json(r) for r in rows]

    # -- consent-based datasets --------------------------------------------------------------------------------
    async def datasets(self, identity: Identity) -> list[dict[str, Any]]:
        def read(c: Connection) -> list[dict[str, Any]]:
            out = []
            for r in c.rows("SELECT dataset, org, subject_field, purpose, recipient FROM privacy_consent_datasets"
                            " ORDER BY dataset"):
                try:
                    visible_dataset(self.platform, c, identity, r["dataset"])
                except NotFound:
                    continue
                out.append({"dataset": r["dataset"], "organization": r["org"], "subject_field": r["subject_field"],
                            "purpose": r["purpose"], "recipient": r["recipient"]})
            return out
        return await self.db.read(read)

    async def mark_dataset(self, identity: Identity, dataset: str, body: Any | None) -> dict[str, Any] | None:
        """Mark ``dataset`` consent-based (``body``: subject_field, purpose, recipient) or unmark it (``body`` None)."""
        def write(c: Connection) -> dict[str, Any] | None:
            ref = writable_dataset(self.platform, c, identity, dataset)
            c.execute("DELETE FROM privacy_consent_datasets WHERE dataset = ?", (ref.name,))
            out = None
            if body is not None:
                b = body_object(body)
                only_keys(b, {"subject_field", "purpose", "recipient"})
                out = {"dataset": ref.name, "organization": ref.owner_org,
                       "subject_field": text(b, "subject_field", limit=MAX_NAME), "purpose": text(b, "purpose", limit=MAX_NAME),
                       "recipient": text(b, "recipient", required=False, limit=MAX_NAME) or ref.owner_org or "*"}
                c.insert("privacy_consent_datasets", {"dataset": ref.name, "org": ref.owner_org,
                                                      "subject_field": out["subject_field"], "purpose": out["purpose"],
                                                      "recipient": out["recipient"], "changed_at": now_stored(),
                                                      "changed_by": identity.subject}, returning="dataset")
            bump_stamp(c)
            return out
        out = await self.db.write(write)
        await self.state.reload()
        if (audit := self._audit()) is not None:
            audit.record(identity.subject, "consent.dataset_changed", "dataset", dataset, dataset=dataset,
                         details=out or {"consent_based": False})
        return out

    # -- the gate transform ------------------------------------------------------------------------------------
    def transform(self, identity: Identity, ds: DatasetAccess, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        snap = self.state.snap
        flag = snap.datasets.get(ds.name)
        if flag is None or not rows:
            return rows
        if self.state.stale():
            raise ServiceUnavailable("The consent register cannot be checked right now; consent-based data is "
                                     "withheld. Retry shortly.", headers={"Retry-After": "5"})
        granted = snap.granted
        out = []
        for row in rows:
            subject = subject_of(row, flag.subject_field)
            if subject is None or (str(subject), flag.purpose, flag.recipient) in granted:
                out.append(row)
        return out


__all__ = ["ConsentRegister", "RECEIPT_VERSION"]
