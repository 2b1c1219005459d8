"""The OpenAPI part of retention, consent, assessments and the transparency page (merged into the privacy
capability's part by :func:`urbanos.privacy.extra.openapi_part`)."""

from __future__ import annotations

from typing import Any

from urbanos.privacy.dpia.model import KEYS, KINDS, STATES

_S: dict[str, Any] = {"type": "string"}
_I: dict[str, Any] = {"type": "integer"}
_PROBLEM = {"$ref": "#/components/responses/Problem"}
_OBJ: dict[str, Any] = {"type": "object"}


def _p(name: str, description: str = "", schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string", "maxLength": 200},
            "description": description}


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _op(op: str, summary: str, ok: dict[str, Any], params: list[dict[str, Any]] | None = None,
        body: str | None = None, secure: bool = False, body_required: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op, "summary": summary, "tags": ["Privacy"], "parameters": params or [],
                           "responses": {**ok, "4XX": _PROBLEM}}
    if body:
        out["requestBody"] = {"required": body_required, "content": _json(body)}
    if secure:
        out["security"] = [{"bearer": []}]
    return out


def _ok(description: str, ref: str | None = None, status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, **({"content": _json(ref)} if ref else {})}}


def _paths() -> dict[str, Any]:
    ds = _p("dataset", "The dataset's name")
    return {
        "/privacy/retention/{dataset}": {
            "get": _op("privacy_retention", "The retention periods of a dataset", _ok("The periods", "Retention"), [ds]),
            "put": _op("privacy_retention_put", "Declare the periods (steward of the owning organisation)",
                       _ok("The periods", "Retention"), [ds], "RetentionBody", secure=True),
            "delete": _op("privacy_retention_delete", "Remove the periods", _ok("Removed", status="204"), [ds],
                          secure=True)},
        "/privacy/consent": {"post": _op("privacy_consent_grant", "Grant consent (a citizen's token, or a steward of the "
                                         "recipient naming the principal)", _ok("The receipt", "Receipt", "201"),
                                         body="ConsentBody", secure=True)},
        "/privacy/consent/receipts": {"get": _op("privacy_consent_receipts", "The caller's own receipts",
                                                 _ok("Receipts", "Receipts"), secure=True)},
        "/privacy/consent/receipts/{receipt_id}/revoke": {"post": _op(
            "privacy_consent_revoke", "Revoke a consent (its principal, the token that made it, a steward of the "
            "recipient)", _ok("The receipt, revoked", "Receipt"), [_p("receipt_id", "consentReceiptID")], secure=True)},
        "/privacy/consent/datasets": {"get": _op("privacy_consent_datasets", "Consent-based datasets",
                                                 _ok("Datasets", "ConsentDatasets"))},
        "/privacy/consent/datasets/{dataset}": {
            "put": _op("privacy_consent_dataset_put", "Mark a dataset consent-based (steward)",
                       _ok("The mark", "ConsentDataset"), [ds], "ConsentDatasetBody", secure=True),
            "delete": _op("privacy_consent_dataset_delete", "Unmark it", _ok("Removed", status="204"), [ds],
                          secure=True)},
        "/privacy/person-related": {
            "get": _op("privacy_person_related", "Marked datasets and ObservedProperties", _ok("Marks", "Marks")),
            "put": _op("privacy_person_related_put", "Mark or unmark (steward of the owning organisation)",
                       _ok("The mark", "Mark"), body="MarkBody", secure=True)},
        "/privacy/dpias": {
            "get": _op("privacy_dpias", "Assessments (approved ones to all; others to the owning organisation and the "
                       "data-protection organisation)", _ok("Assessments", "Assessments")),
            "post": _op("privacy_dpia_create", "Start an assessment (a draft)", _ok("The draft", "Assessment", "201"),
                        body="AssessmentBody", secure=True)},
        "/privacy/dpias/{id}": {
            "get": _op("privacy_dpia", "One assessment", _ok("The assessment", "Assessment"),
                       [_p("id", "The assessment's id", {"type": "integer", "minimum": 1})]),
            "patch": _op("privacy_dpia_change", "Change sections of a draft or rejected assessment (null removes)",
                         _ok("The assessment", "Assessment"), [_p("id", "", {"type": "integer", "minimum": 1})],
                         "AssessmentBody", secure=True)},
        "/privacy/dpias/{id}/{action}": {"post": _op(
            "privacy_dpia_transition", "submit, approve or reject", _ok("The assessment", "Assessment"),
            [_p("id", "", {"type": "integer", "minimum": 1}),
             _p("action", "", {"type": "string", "enum": ["submit", "approve", "reject"]})],
            "DecisionBody", secure=True, body_required=False)},
        "/transparency": {"get": _op("privacy_transparency", "The transparency page (HTML en/de, or JSON)", {
            "200": {"description": "The page", "content": {"text/html": {"schema": _S}, **_json("Transparency")}}},
            [{"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": ["en", "de"]}},
             {"name": "f", "in": "query", "required": False, "schema": {"type": "string", "enum": ["html", "json"]}}])},
        "/transparency.css": {"get": _op("privacy_transparency_css", "The page's stylesheet (screen and print)", {
            "200": {"description": "CSS", "content": {"text/css": {"schema": _S}}}})},
        "/privacy/contacts": {"get": _op("privacy_contacts", "Contacts for objections", _ok("Contacts", "Contacts"))},
        "/privacy/contacts/{org}": {"put": _op("privacy_contact_put", "Set an organisation's contact (steward)",
                                               _ok("The contact", "Contact"), [_p("org", "The organisation's name")],
                                               "ContactBody", secure=True)},
    }


def _schemas() -> dict[str, Any]:
    days = {"type": "integer", "minimum": 1, "maximum": 36500}
    sections = {"type": "object", "additionalProperties": False,
                "properties": {k: {"type": ["string", "null"], "maxLength": 20000} for k in KEYS}}
    return {
        "RetentionBody": {"type": "object", "additionalProperties": False, "properties": {
            "days": {**days, "type": ["integer", "null"]}, "note": {"type": "string", "maxLength": 1000},
            "datastreams": {"type": "array", "maxItems": 500, "items": {"type": "object", "required": ["id", "days"],
                                                                        "properties": {"id": _I, "days": days}}},
            "collections": {"type": "array", "maxItems": 500, "items": {"type": "object", "required": ["name", "days"],
                            "properties": {"name": _S, "days": days, "time_property": _S}}}}},
        "Retention": {"type": "object", "properties": {"dataset": _S, "organization": {"type": ["string", "null"]},
                                                       "days": {"type": ["integer", "null"]},
                                                       "datastreams": {"type": "array"}, "collections": {"type": "array"}}},
        "ConsentBody": {"type": "object", "required": ["purpose", "recipient"], "additionalProperties": False,
                        "properties": {"purpose": _S, "recipient": _S, "principal": _S, "collection_method": _S,
                                       "jurisdiction": _S, "language": _S, "service": _S, "sensitive": {"type": "boolean"},
                                       "pii_categories": {"type": "array", "items": _S},
                                       "spi_categories": {"type": "array", "items": _S}}},
        "Receipt": {"type": "object", "properties": {
            "receipt": {"type": "object", "description": "Kantara Consent Receipt v1.1 fields", "required": [
                "version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID", "piiPrincipalId",
                "piiControllers", "policyUrl", "services", "sensitive", "spiCat"]},
            "state": {"type": "string", "enum": ["granted", "revoked"]}, "granted_at": _S,
            "revoked_at": {"type": ["string", "null"]}}},
        "Receipts": {"type": "object", "properties": {"receipts": {"type": "array", "items": {
            "$ref": "#/components/schemas/Receipt"}}}},
        "ConsentDatasetBody": {"type": "object", "required": ["subject_field", "purpose"], "properties": {
            "subject_field": _S, "purpose": _S, "recipient": _S}},
        "ConsentDataset": _OBJ, "ConsentDatasets": {"type": "object", "properties": {"datasets": {"type": "array"}}},
        "MarkBody": {"type": "object", "required": ["kind", "target", "person_related"], "properties": {
            "kind": {"type": "string", "enum": list(KINDS)}, "target": {"type": ["string", "integer"]},
            "person_related": {"type": "boolean"}}},
        "Mark": _OBJ, "Marks": {"type": "object", "properties": {"person_related": {"type": "array"}}},
        "AssessmentBody": {"type": "object", "properties": {
            "kind": {"type": "string", "enum": list(KINDS)}, "target": {"type": ["string", "integer"]},
            "sections": sections}},
        "Assessment": {"type": "object", "properties": {"id": _I, "kind": _S, "ref": _S, "label": _S,
                                                        "state": {"type": "string", "enum": list(STATES)},
                                                        "sections": sections, "version": _I}},
        "Assessments": {"type": "object", "properties": {"assessments": {"type": "array", "items": {
            "$ref": "#/components/schemas/Assessment"}}}},
        "DecisionBody": {"type": "object", "properties": {"note": {"type": "string", "maxLength": 20000}}},
        "Transparency": {"type": "object", "properties": {k: {"type": "array"} for k in (
            "datasets", "observed_properties", "algorithms", "assessments", "deletions", "contacts")}},
        "ContactBody": {"type": "object", "required": ["contact"], "properties": {
            "contact": {"type": "string", "maxLength": 500}, "note": {"type": "string", "maxLength": 2000}}},
        "Contact": _OBJ, "Contacts": {"type": "object", "properties": {"contacts": {"type": "array"}}},
    }


def openapi_part() -> dict[str, Any]:
    return {
        "tags": [{"name": "Privacy", "description": "The audit trail, the algorithm register, retention, consent, "
                  "impact assessments and the transparency page."}],
        "paths": _paths(),
        "components": {"schemas": _schemas(), "responses": {"Problem": {
            "description": "An error (problem details)", "content": {"application/problem+json": {"schema": {
                "type": "object", "required": ["status", "detail"], "properties": {
                    "status": {"type": "integer"}, "detail": _S, "title": _S, "type": _S, "code": _S}}}}}}},
    }


__all__ = ["openapi_part"]
