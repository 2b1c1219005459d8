"""The portal's metadata form: publishers create a dataset (``/datasets/new``) and edit its metadata
(``/datasets/{name}/edit``).

The form goes through the same service calls as the CKAN Action API (``package_create`` and ``package_patch`` of
:class:`urbanos.catalog.write_service.CatalogWrites`), so the same validation and authorisation apply: a caller
without the publisher role for the dataset's organisation gets the refusal page and nothing changes. Validation
errors are shown next to their fields with the entered values kept. The form carries the portal's CSRF token
(double submit, :mod:`urbanos.catalog.portal.session`), like the upload form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from urbanos.catalog.dcat import source
from urbanos.catalog.dcat.source import base_url, platform_of
from urbanos.catalog.dcat.vocab import as_list
from urbanos.catalog.model import CITY_DOMAINS, EU_THEMES, FREQUENCIES, GROUNDS, LICENSES
from urbanos.catalog.portal import session
from urbanos.catalog.portal.i18n import FREQUENCY_LABELS, LANGS
from urbanos.catalog.portal.lists import lang_suffix, page_context, refusal, render
from urbanos.catalog.portal.session import portal_identity as identity_of
from urbanos.catalog.validation import ACCESS_LEVELS
from urbanos.errors import BadRequest, Forbidden, NotFound, Unauthorized, UrbanosError
from urbanos.governance import Identity

TEMPLATE = "catalog/portal/portal_edit.html"
TEXT_FIELDS = ("title", "notes", "license_id", "frequency", "spatial_text", "spatial", "temporal_start", "temporal_end",
               "access_level", "legal_basis", "review_date")
CHOICE_FIELDS = ("theme", "grounds")
CREATE_FIELDS = ("name", "owner_org")
FORM_LANG = "de"
TRANSLATED_FIELDS = {f"title_{FORM_LANG}": "title_translated", f"notes_{FORM_LANG}": "notes_translated"}
"""The form's fields of the title and description in German, and the package fields they are part of."""
FORM_FIELDS = (*CREATE_FIELDS, *TEXT_FIELDS, *TRANSLATED_FIELDS, "tags", *CHOICE_FIELDS)
REFUSED = (Unauthorized, Forbidden, NotFound)


def values_of(pkg: dict[str, Any]) -> dict[str, Any]:
    """The form's values for a stored package (as ``package_show`` answers it)."""
    values: dict[str, Any] = {k: str(pkg.get(k) or "") for k in (*CREATE_FIELDS, *TEXT_FIELDS)}
    values["access_level"] = values["access_level"] or "open"
    for form_field, key in TRANSLATED_FIELDS.items():
        translated = pkg.get(key)
        values[form_field] = str(translated.get(FORM_LANG) or "") if isinstance(translated, dict) else ""
    values["tags"] = ", ".join(str(t.get("name") if isinstance(t, dict) else t) for t in pkg.get("tags") or [])
    for k in CHOICE_FIELDS:
        values[k] = as_list(pkg.get(k))
    return values


def read_values(form: Any, creating: bool) -> dict[str, Any]:
    """The form's values as entered (kept when the form comes back with errors)."""
    values: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in (*CREATE_FIELDS, *TEXT_FIELDS)}
    values["notes"] = str(form.get("notes") or "").strip()
    for form_field in TRANSLATED_FIELDS:
        values[form_field] = str(form.get(form_field) or "").strip()
    values["tags"] = str(form.get("tags") or "").strip()
    for k in CHOICE_FIELDS:
        values[k] = [v for v in form.getlist(k) if isinstance(v, str) and v]
    if not creating:
        values["name"] = values["owner_org"] = ""
    return values


def package_input(values: dict[str, Any], creating: bool, pkg: dict[str, Any] | None = None) -> dict[str, Any]:
    """The package the form asks for, as the Action API takes it (keywords: a comma-separated text). The German
    title and description replace those of the stored package ``pkg``; its other languages are kept."""
    data: dict[str, Any] = {k: values[k] for k in TEXT_FIELDS}
    for form_field, key in TRANSLATED_FIELDS.items():
        stored = (pkg or {}).get(key)
        translated = {k: v for k, v in stored.items() if k != FORM_LANG} if isinstance(stored, dict) else {}
        if values.get(form_field):
            translated[FORM_LANG] = values[form_field]
        data[key] = translated
    data["tags"] = [t.strip() for t in values["tags"].split(",") if t.strip()]
    for k in CHOICE_FIELDS:
        data[k] = list(values[k])
    if creating:
        data.update({k: values[k] for k in CREATE_FIELDS})
    return data


def field_errors(exc: UrbanosError) -> tuple[dict[str, list[str]], list[str]]:
    """The messages of a refused write by form field, and the ones no field of the form shows."""
    by_field: dict[str, list[str]] = {}
    other: list[str] = []
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    form_field_of = {key: form_field for form_field, key in TRANSLATED_FIELDS.items()}
    for key, messages in detail.items():
        texts = [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
        key = form_field_of.get(key, key)
        if key in FORM_FIELDS:
            by_field.setdefault(key, []).extend(texts)
        else:
            other.extend(f"{key}: {m}" for m in texts)
    if not detail:
        other.append(exc.message)
    return by_field, other


def choices(t: Any, lang: str) -> dict[str, Any]:
    """The vocabularies the form offers: licences, themes, frequencies, access levels and grounds."""
    at = LANGS.index(lang) if lang in LANGS else 0
    return {
        "licenses": [(lic["id"], lic["title"]) for lic in LICENSES],
        "theme_groups": [(t("eu_themes"), [(code, t(f"theme_{code}", label)) for code, label in EU_THEMES.items()]),
                         (t("city_domains"), [(code, t(f"theme_{code}", label)) for code, label in CITY_DOMAINS.items()])],
        "frequencies": [(code, FREQUENCY_LABELS[code][at] if code in FREQUENCY_LABELS else code) for code in FREQUENCIES],
        "access_levels": [(level, t(f"access_{level}")) for level in ACCESS_LEVELS],
        "grounds": list(GROUNDS.items()),
    }


def may_publish_to(identity: Identity, orgs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The organisations the caller may create datasets for: (name, title)."""
    return [(str(o["name"]), str(o.get("title") or o["name"])) for o in orgs if identity.has_role("publisher", str(o["name"]))]


async def show_form(request: Request, *, values: dict[str, Any], creating: bool, status: int = 200,
                    errors: dict[str, list[str]] | None = None, other: list[str] | None = None,
                    orgs: list[tuple[str, str]] | None = None, pkg: dict[str, Any] | None = None) -> HTMLResponse:
    ctx = page_context(request)
    action = "/datasets/new" if creating else f"/datasets/{quote(str(pkg['name'] if pkg else ''), safe='')}/edit"
    return render(request, TEMPLATE, status=status, creating=creating, values=values, errors=errors or {},
                  other_errors=other or [], orgs=orgs or [], pkg=pkg, action=action + lang_suffix(request),
                  **choices(ctx["t"], ctx["lang"]))


def sign_in_first(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='/')}" + lang_suffix(request, "&"), status_code=303)


async def publishable_orgs(request: Request, identity: Identity) -> list[tuple[str, str]]:
    """The caller's organisations to publish to; 401 when signed out, 403 when there is none."""
    t = page_context(request)["t"]
    if identity.is_anonymous:
        raise Unauthorized(t("new_no_rights"))
    found = await source.service(platform_of(request)).organization_list(identity, all_fields=True)
    orgs = may_publish_to(identity, found)
    if not orgs:
        raise Forbidden(t("new_no_rights"))
    return orgs


async def readable_package(request: Request, identity: Identity, name: str) -> dict[str, Any]:
    """The package to edit, when the caller may publish to its organisation (403 otherwise; 404 when hidden)."""
    t = page_context(request)["t"]
    pkg = await source.show(platform_of(request), identity, name, base_url(request))
    if identity.is_anonymous:
        raise Unauthorized(t("edit_no_rights"))
    if not identity.has_role("publisher", (pkg.get("organization") or {}).get("name") or pkg.get("owner_org")):
        raise Forbidden(t("edit_no_rights"))
    return pkg


# -- pages --------------------------------------------------------------------------------------------------
async def new_form(request: Request) -> HTMLResponse | RedirectResponse:
    try:
        identity = await identity_of(request)
        if identity.is_anonymous:
            return sign_in_first(request)
        orgs = await publishable_orgs(request, identity)
    except UrbanosError as exc:
        return refusal(request, exc)
    org = request.query_params.get("organization") or ""
    values = values_of({"access_level": "open", "owner_org": org if org in dict(orgs) else orgs[0][0]})
    return await show_form(request, values=values, creating=True, orgs=orgs)


async def create(request: Request) -> HTMLResponse | RedirectResponse:
    platform = platform_of(request)
    try:
        identity = await identity_of(request)
        form = await read_form(request)
        session.check_csrf(request, form)
        orgs = await publishable_orgs(request, identity)
    except UrbanosError as exc:
        return refusal(request, exc)
    values = read_values(form, creating=True)
    try:
        pkg = await source.service(platform).writes.package_create(identity, package_input(values, True), base_url(request))
    except REFUSED as exc:
        return refusal(request, exc)
    except UrbanosError as exc:
        errors, other = field_errors(exc)
        return await show_form(request, values=values, creating=True, status=exc.status, errors=errors, other=other,
                               orgs=orgs)
    return RedirectResponse(f"/datasets/{quote(str(pkg['name']), safe='')}" + lang_suffix(request), status_code=303)


async def edit_form(request: Request, name: str) -> HTMLResponse | RedirectResponse:
    try:
        identity = await identity_of(request)
        if identity.is_anonymous:
            return sign_in_first(request)
        pkg = await readable_package(request, identity, name)
    except UrbanosError as exc:
        return refusal(request, exc)
    return await show_form(request, values=values_of(pkg), creating=False, pkg=pkg)


async def save(request: Request, name: str) -> HTMLResponse | RedirectResponse:
    platform = platform_of(request)
    try:
        identity = await identity_of(request)
        form = await read_form(request)
        session.check_csrf(request, form)
        pkg = await readable_package(request, identity, name)
    except UrbanosError as exc:
        return refusal(request, exc)
    values = read_values(form, creating=False)
    # the stored package repeats its governance fields in ``extras``, where they would fill a field the form
    # clears: send the other extras only (kept as they are)
    extras = [e for e in pkg.get("extras") or [] if isinstance(e, dict) and e.get("key") not in FORM_FIELDS]
    data = {**package_input(values, False, pkg), "id": str(pkg["id"]), "extras": extras}
    try:
        saved = await source.service(platform).writes.package_patch(identity, data, base_url(request))
    except REFUSED as exc:
        return refusal(request, exc)
    except UrbanosError as exc:
        errors, other = field_errors(exc)
        return await show_form(request, values=values, creating=False, status=exc.status, errors=errors, other=other,
                               pkg=pkg)
    return RedirectResponse(f"/datasets/{quote(str(saved['name']), safe='')}" + lang_suffix(request), status_code=303)


async def read_form(request: Request) -> Any:
    try:
        return await request.form(max_files=0, max_fields=100)
    except Exception as exc:  # noqa: BLE001 - a malformed form is the client's fault
        raise BadRequest(f"The form cannot be read: {exc}") from None


__all__ = ["new_form", "create", "edit_form", "save", "values_of", "read_values", "package_input", "field_errors"]
