"""The portal's dashboard form: who may create, change and delete a dashboard, and the checks of what is sent (the
same as a dashboard file's, with the line of each problem in the definition, and the data checked as the
publisher)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from urbanos.cockpit.dashboards import store
from urbanos.cockpit.dashboards.checks import check_dashboard
from urbanos.cockpit.dashboards.files import as_file_problem, parse
from urbanos.cockpit.dashboards.model import SLUG_RE, check
from urbanos.errors import Unauthorized
from urbanos.governance import Gate

if TYPE_CHECKING:
    from urbanos.cockpit.dashboards.service import DashboardService
    from urbanos.governance import Identity
    from urbanos.platform import Platform

MAX_TEXT = 64 * 1024
FORM_NAME = "definition"


@dataclass(frozen=True)
class FormInput:
    slug: str
    org: str
    text: str

    @classmethod
    def of(cls, form: Mapping[str, Any], slug: str | None) -> FormInput:
        def field(name: str, limit: int) -> str:
            v = form.get(name)
            return v.strip()[:limit] if isinstance(v, str) else ""

        return cls(slug if slug is not None else field("slug", 100), field("organization", 100),
                   field("definition", MAX_TEXT + 1))


async def authorize(platform: Platform, identity: Identity, owner: str | None, new_owner: str | None, *,
                    creating: bool = False) -> None:
    """401 for anonymous callers; 403 unless the caller is a publisher of the dashboard's organisation (and of the
    organisation it moves to). Creating needs the publisher role somewhere; the organisation is checked on save."""
    if identity.is_anonymous:
        raise Unauthorized("Sign in (or send a bearer token) to create or change dashboards.")
    if creating:
        if new_owner is None:
            Gate.require_somewhere(identity, "publisher")
        else:
            Gate.require(identity, "publisher", new_owner)
        return
    Gate.require(identity, "publisher", owner)
    if new_owner != owner:
        Gate.require(identity, "publisher", new_owner)


async def validate(platform: Platform, identity: Identity, values: FormInput, base: str, svc: DashboardService,
                   *, creating: bool) -> tuple[dict[str, Any] | None, list[str]]:
    """The definition to store, or the problems to show (each with its line in the definition)."""
    errors: list[str] = []
    if creating:
        if not SLUG_RE.match(values.slug):
            errors.append("Address (slug): 1 to 64 lower-case letters, digits and hyphens.")
        elif svc.is_file(values.slug) or await platform.db.read(lambda c: store.get(c, values.slug)) is not None:
            errors.append(f"Address (slug): a dashboard {values.slug!r} exists already.")
    if values.org and not await platform.db.read(lambda c: store.org_exists(c, values.org)):
        errors.append(f"Organisation: there is no organisation {values.org!r}.")
    if not values.org and not identity.has_role("publisher", None):
        errors.append("Organisation: name the organisation the dashboard belongs to (one you publish for).")
    if not values.text:
        errors.append("Definition: the definition is empty.")
        return None, errors
    if len(values.text) > MAX_TEXT:
        errors.append(f"Definition: longer than {MAX_TEXT // 1024} KiB.")
        return None, errors
    data, lines, problems = parse(values.text, FORM_NAME)
    errors += [str(p) for p in problems]
    if problems:
        return None, errors
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "organization"}  # the form's field says who owns it
    dash, found = check(data, values.slug if SLUG_RE.match(values.slug) else "x", origin="portal")
    errors += [str(as_file_problem(FORM_NAME, lines, p)) for p in found if p.path != ("slug",)]
    if dash is not None and not errors:
        errors += [str(as_file_problem(FORM_NAME, lines, p))
                   for p in await check_dashboard(platform, dash, identity, base)]
    return (data if not errors else None), errors


__all__ = ["FormInput", "authorize", "validate", "MAX_TEXT"]
