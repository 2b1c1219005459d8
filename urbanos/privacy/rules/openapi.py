"""The privacy rules' part of ``/openapi.json``."""

from __future__ import annotations

from typing import Any

_S: dict[str, Any] = {"type": "string"}
_PROBLEM = {"$ref": "#/components/responses/Problem"}
_DS = {"name": "dataset", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"},
       "description": "The dataset's name or UUID"}


def _q(name: str, schema: dict[str, Any], required: bool, description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


RULE: dict[str, Any] = {"type": "object", "required": ["kind"], "additionalProperties": False, "properties": {
    "kind": {"type": "string", "enum": ["redact", "pseudonymise", "k-threshold", "aggregate", "dp"]},
    "role": {"type": "string", "enum": ["publisher", "steward", "admin"],
             "description": "the least role for the dataset's organisation that sees raw rows (steward by default)"},
    "fields": {"type": "array", "items": _S}, "purpose": _S,
    "period": {"type": "string", "enum": ["day", "month", "year"]},
    "k": {"type": "integer", "minimum": 2}, "field": _S, "bucket_minutes": {"type": "integer", "minimum": 1},
    "h3_resolution": {"type": "integer", "minimum": 0, "maximum": 15}, "boundaries": _S,
    "statistic": {"type": "string", "enum": ["sum", "count", "mean"]},
    "epsilon": {"type": "number", "exclusiveMinimum": 0, "maximum": 10}, "budget": {"type": "number", "minimum": 0},
    "bounds": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
    "datastreams": {"type": "array", "items": {"type": "integer", "minimum": 1}},
    "collections": {"type": "array", "items": _S}}}


def paths() -> dict[str, Any]:
    one = {"200": {"description": "The rules in force, with their plain-language description (en, de)",
                   "content": _json("PrivacyRules")}, "4XX": _PROBLEM}
    return {
        "/privacy/rules/{dataset}": {
            "get": {"operationId": "privacy_rules", "summary": "The privacy rules of a dataset", "tags": ["Privacy"],
                    "parameters": [_DS], "responses": one},
            "put": {"operationId": "privacy_rules_declare", "tags": ["Privacy"],
                    "summary": "Declare the privacy rules of a dataset (stewards of its organisation; a new version)",
                    "parameters": [_DS], "security": [{"bearer": []}], "responses": one,
                    "requestBody": {"required": True, "content": _json("PrivacyRulesBody")}}},
        "/privacy/dp/{dataset}": {"get": {
            "operationId": "privacy_dp_release", "tags": ["Privacy"],
            "summary": "A differentially private count or sum of a dataset's Observations (its dp rule; charges ε to "
                       "the budget of the period, 429 when spent)",
            "parameters": [_DS, _q("statistic", {"type": "string", "enum": ["count", "sum"]}, True),
                           _q("from", _S, True, "ISO 8601 instant (inclusive)"),
                           _q("to", _S, True, "ISO 8601 instant (exclusive)")],
            "responses": {"200": {"description": "The noisy value, the noise scale, ε and the budget left",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}, "4XX": _PROBLEM}}},
        "/privacy/rules/{dataset}/history": {
            "get": {"operationId": "privacy_rules_history", "summary": "Every version of a dataset's privacy rules "
                    "(stewards of its organisation)", "tags": ["Privacy"], "parameters": [_DS],
                    "security": [{"bearer": []}], "responses": {"200": {
                        "description": "Versions, newest first", "content": _json("PrivacyRulesHistory")},
                        "4XX": _PROBLEM}}},
    }


def schemas() -> dict[str, Any]:
    listed = {"type": "array", "items": {"$ref": "#/components/schemas/PrivacyRule"}}
    return {
        "PrivacyRule": RULE,
        "PrivacyRulesBody": {"type": "object", "required": ["rules"], "additionalProperties": False,
                             "properties": {"rules": {**listed, "maxItems": 20}}},
        "PrivacyRules": {"type": "object", "required": ["dataset", "version", "rules"], "properties": {
            "dataset": _S, "version": {"type": "integer"}, "modified": {"type": ["string", "null"]}, "rules": listed,
            "description": {"type": "object", "properties": {"en": {"type": "array", "items": _S},
                                                             "de": {"type": "array", "items": _S}}}}},
        "PrivacyRulesHistory": {"type": "object", "required": ["dataset", "versions"], "properties": {
            "dataset": _S, "versions": {"type": "array", "items": {"type": "object", "properties": {
                "version": {"type": "integer"}, "actor": _S, "at": _S, "rules": listed}}}}},
    }


__all__ = ["paths", "schemas"]
