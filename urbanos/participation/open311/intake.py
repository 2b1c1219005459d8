"""A new service request from a GeoReport POST: the form's fields checked (every problem named at once), nothing
stored before all of them pass."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from urbanos.errors import NotFound, ValidationFailed
from urbanos.participation.open311.definitions import TEXT_MAX, check_attributes
from urbanos.participation.open311.store import CONTACT_FIELDS

_ATTR = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")
_LIMITS = {"address_string": 500, "address_id": 100, "zipcode": 20, "email": 254, "first_name": 100,
           "last_name": 100, "phone": 40, "device_id": 200, "account_id": 200, "media_url": 2000,
           "jurisdiction_id": 200, "service_code": 64}
MAX_FIELDS = 200


@dataclass
class Intake:
    service_code: str
    description: str | None
    lat: float | None
    lon: float | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    media_url: str | None
    attributes: dict[str, Any]
    contact: dict[str, str] = field(default_factory=dict)


def _number(text: str, name: str, lo: float, hi: float, errors: list[str]) -> float | None:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not text.isascii() or not math.isfinite(v) or not lo <= v <= hi:
        errors.append(f"{name}: a number from {lo:g} to {hi:g} is expected, got {text[:40]!r}.")
        return None
    return v


def _location(one: dict[str, str], errors: list[str]) -> tuple[float | None, float | None]:
    lat_s, lon_s = one.get("lat", ""), one.get("long", "")
    if lat_s or lon_s:
        if not (lat_s and lon_s):
            errors.append("lat and long: give both, or neither.")
            return None, None
        return _number(lat_s, "lat", -90, 90, errors), _number(lon_s, "long", -180, 180, errors)
    if not (one.get("address_string") or one.get("address_id")):
        errors.append("A location is required: lat and long, address_string or address_id.")
    return None, None


def split_fields(items: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]], set[str], list[str]]:
    """The plain fields (each once), the ``attribute[code]`` values, the codes sent as ``attribute[code][]``, and
    the problems of the form's shape."""
    errors: list[str] = []
    if len(items) > MAX_FIELDS:
        errors.append(f"The form has more than {MAX_FIELDS} fields.")
    one: dict[str, str] = {}
    attrs: dict[str, list[str]] = {}
    multi: set[str] = set()
    for key, value in items[:MAX_FIELDS]:
        if "\x00" in key or "\x00" in value:
            errors.append(f"{key[:40]!r}: NUL characters are not accepted.")
            continue
        m = _ATTR.match(key)
        if m:
            attrs.setdefault(m[1], []).append(value)
            if m[2]:
                multi.add(m[1])
        elif key.startswith("attribute"):
            errors.append(f"{key[:40]!r}: write attribute[code]=value or attribute[code][]=value.")
        elif key in one and key != "api_key":
            errors.append(f"{key[:40]}: given more than once.")
        else:
            one[key] = value
    return one, attrs, multi, errors


def check(one: dict[str, str], attrs: dict[str, list[str]], multi: set[str], service: dict[str, Any] | None,
          errors: list[str]) -> Intake:
    """The request's values; ValidationFailed (400) listing every problem, NotFound (404) for an unknown service."""
    for key, limit in _LIMITS.items():
        if len(one.get(key, "")) > limit:
            errors.append(f"{key}: at most {limit} characters.")
    code = one.get("service_code", "")
    if not code:
        errors.append("service_code: required.")
    elif service is None and not errors:
        raise NotFound(f"service_code {code[:64]!r}: no such service.")
    description = one.get("description", "")
    if len(description) > TEXT_MAX:
        errors.append(f"description: at most {TEXT_MAX} characters.")
    lat, lon = _location(one, errors)
    email = one.get("email", "")
    if email and not _EMAIL.match(email):
        errors.append("email: not an e-mail address.")
    media_url = one.get("media_url", "")
    if media_url and not media_url.startswith(("https://", "http://")):
        errors.append("media_url: an http or https URL.")
    values = check_attributes(service, attrs, multi, errors) if service is not None else {}
    if errors:
        raise ValidationFailed(f"The service request is not valid: {errors[0]}", detail={"errors": errors})
    return Intake(code, description or None, lat, lon, one.get("address_string") or None,
                  one.get("address_id") or None, one.get("zipcode") or None, media_url or None, values,
                  {k: one[k] for k in CONTACT_FIELDS if one.get(k)})


__all__ = ["Intake", "split_fields", "check", "MAX_FIELDS"]
