"""Field-by-field validation of an algorithm register entry (:mod:`urbanos.privacy.algorithms.fields`).

A request body is one JSON object: the standard's fields, plus ``owner_org`` (the platform organisation that owns the
entry) and ``datasets`` (names of the catalogue datasets the algorithm uses). Every error names its field."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from urbanos.errors import ValidationFailed
from urbanos.privacy.algorithms.fields import BY_NAME, FIELDS, STANDARD_VERSION, Field

LINKS = ("owner_org", "datasets")
READ_ONLY = ("id", "url", "version", "created_at", "modified_at", "created_by", "modified_by")
"""Keys an answer carries that a request may send back unchanged (they are ignored)."""
MAX_TEXT = 20000
MAX_SHORT = 300
MAX_LIST = 100
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LANG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SHORT = ("name", "organization", "department", "contact_email", "contact_phone", "contact_name", "area")


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def _text(f: Field, v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be text"
    limit = MAX_SHORT if f.name in _SHORT else MAX_TEXT
    if len(v) > limit:
        return f"must be at most {limit} characters"
    return None


def _url(v: str) -> bool:
    parts = urlsplit(v)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(ch.isspace() for ch in v)


def _date(v: str) -> bool:
    if not _DATE.fullmatch(v):
        return False
    try:
        date.fromisoformat(v)
    except ValueError:
        return False
    return True


def _uuid(v: str) -> bool:
    try:
        return str(uuid.UUID(v)) == v.lower()
    except ValueError:
        return False


def _keywords(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(k, str) and k.strip() for k in v):
        return "must be a list of non-empty texts"
    if len(v) > MAX_LIST or any(len(k) > MAX_SHORT for k in v):
        return f"must be at most {MAX_LIST} keywords of at most {MAX_SHORT} characters"
    return None


def field_problem(f: Field, v: Any) -> str | None:
    """What is wrong with value ``v`` of field ``f`` (None: it is valid)."""
    if f.kind == "keywords":
        return _keywords(v)
    wrong = _text(f, v)
    if wrong:
        return wrong
    checks = {
        "email": (lambda s: bool(_EMAIL.fullmatch(s)), "must be an e-mail address"),
        "url": (_url, "must be an http or https URL"),
        "date": (_date, "must be a date (YYYY-MM-DD)"),
        "uuid": (_uuid, "must be a UUID in its lower-case hyphenated form"),
        "lang": (lambda s: bool(_LANG.fullmatch(s)), "must be a language code such as en or de"),
        "enum": (lambda s: s in f.choices, f"must be one of: {'; '.join(f.choices)}"),
        "constant": (lambda s: s == STANDARD_VERSION, f"must be {STANDARD_VERSION!r}"),
    }
    check = checks.get(f.kind)
    if check is not None and not check[0](v):
        return check[1]
    return None


def _links(body: dict[str, Any], problems: dict[str, list[str]]) -> tuple[str | None, list[str] | None]:
    org, datasets = body.get("owner_org"), body.get("datasets")
    if org is not None and (not isinstance(org, str) or not org.strip() or len(org) > MAX_SHORT):
        problems["owner_org"] = ["must be the name of an organisation of the platform"]
        org = None
    if datasets is not None:
        if (not isinstance(datasets, list) or len(datasets) > MAX_LIST
                or not all(isinstance(d, str) and d.strip() and len(d) <= MAX_SHORT for d in datasets)):
            problems["datasets"] = [f"must be a list of at most {MAX_LIST} dataset names"]
            datasets = None
        else:
            datasets = sorted({d.strip() for d in datasets})
    return (org.strip() if isinstance(org, str) else None), datasets


def check_record(merged: dict[str, Any], problems: dict[str, list[str]]) -> dict[str, Any]:
    """The standard's fields of ``merged`` (every key already known), checked; empty optional texts dropped."""
    record: dict[str, Any] = {}
    for f in FIELDS:
        v = merged.get(f.name)
        if v is None or (isinstance(v, str) and not v.strip() and f.kind != "keywords") or v == []:
            if f.required:
                problems.setdefault(f.name, []).append("is required")
            continue
        wrong = field_problem(f, v)
        if wrong:
            problems.setdefault(f.name, []).append(wrong)
        else:
            record[f.name] = v.strip() if isinstance(v, str) and f.kind == "text" else v
    return record


def validated(body: Any, base: dict[str, Any] | None = None, *, partial: bool = False) -> tuple[dict[str, Any], str, list[str]]:
    """The record, owner organisation and dataset names of request ``body``: a new entry (``base`` None), a
    replacement of ``base`` (PUT) or a change of it (``partial``: PATCH, where null removes an optional field).
    The platform fills ``standard_version``, ``uuid`` and ``publication_date`` when missing and sets
    ``last_change_date`` to today. Raises ValidationFailed naming every wrong field."""
    if not isinstance(body, dict):
        raise ValidationFailed("The body must be a JSON object of algorithm register fields.",
                               detail={"body": ["must be a JSON object"]})
    problems: dict[str, list[str]] = {}
    for key in body:
        if key not in BY_NAME and key not in LINKS and key not in READ_ONLY:
            problems[key] = ["is not a field of the algorithm register (Eurocities standard v0.3.1)"]
    org, datasets = _links(body, problems)
    merged: dict[str, Any] = dict(base["record"]) if base is not None and partial else {}
    for key, value in body.items():
        if key in BY_NAME:
            merged[key] = value
    if base is not None:
        for key in ("standard_version", "uuid", "publication_date"):
            if merged.get(key) is None or key not in body:
                merged[key] = base["record"].get(key)
    merged.setdefault("standard_version", STANDARD_VERSION)
    merged["standard_version"] = merged["standard_version"] or STANDARD_VERSION
    merged["uuid"] = merged.get("uuid") or str(uuid.uuid4())
    merged["publication_date"] = merged.get("publication_date") or today()
    merged["last_change_date"] = today()
    record = check_record(merged, problems)
    if base is None or not partial:
        org = org if org is not None else (base["owner_org"] if base is not None and "owner_org" not in body else None)
        if org is None and "owner_org" not in problems:
            problems["owner_org"] = ["is required: the organisation of the platform that owns this entry"]
    else:
        org = org if "owner_org" in body and org is not None else base["owner_org"]
    if datasets is None:
        datasets = list(base["datasets"]) if base is not None and "datasets" not in body else []
    if problems:
        names = ", ".join(sorted(problems))
        raise ValidationFailed(f"The algorithm register entry is invalid: {names}.", detail=problems)
    assert org is not None
    return record, org, datasets


__all__ = ["validated", "field_problem", "check_record", "LINKS", "READ_ONLY", "today"]
