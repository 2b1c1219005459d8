"""The CKAN Action API dispatcher, free of the web framework.

``await dispatch(platform, name, identity, data, method=..., upload=..., base_url=...)`` runs one action and
returns its ``result``; ``ckan_error(exc)`` turns an ``UrbanosError`` into CKAN's status and ``error``
object, with the ``__type`` values ckanapi maps to its exceptions:

===========================  ======  =====================
urbanos error                status  ``__type``
===========================  ======  =====================
Unauthorized / Forbidden     403     Authorization Error
NotFound                     404     Not Found Error
ValidationFailed / Conflict  409     Validation Error (field messages as keys)
SearchQueryError             400     Search Query Error
other 4xx                    same    Bad Request / …
===========================  ======  =====================

The extra actions of the platform's :class:`urbanos.ports.CkanActionsPort` (name -> ``async fn(platform, identity,
data)``; the DataStore's, when the features capability is installed) are served too; the catalogue works without
one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from urbanos.catalog.dicts import org_dict
from urbanos.catalog.members import member_list as list_members
from urbanos.catalog.members import organization_member, organizations_for_user
from urbanos.catalog.search import SearchQueryError
from urbanos.catalog.service import CatalogService
from urbanos.catalog.usage import publish_usage, usage_rows
from urbanos.core.numbers import parse_int
from urbanos.errors import BadRequest, NotFound, UrbanosError, ValidationFailed
from urbanos.governance import Gate, Identity
from urbanos.platform import Platform
from urbanos.ports import CkanAction, CkanActionsPort
from urbanos.storage import Connection

Ctx = dict[str, Any]
Action = Callable[[CatalogService, Identity, dict[str, Any], Ctx], Awaitable[Any]]
READ: dict[str, Action] = {}
WRITE: dict[str, Action] = {}


def _reg(table: dict[str, Action], name: str) -> Callable[[Action], Action]:
    def deco(fn: Action) -> Action:
        table[name] = fn
        return fn
    return deco


def as_int(data: dict[str, Any], key: str, default: int | None, minimum: int = 0) -> int | None:
    v = data.get(key)
    if v in (None, ""):
        return default
    n = parse_int(v, lo=-(10**12), hi=10**12)  # ASCII digits only; far beyond any page or offset
    if n is None:
        raise ValidationFailed(f"{key}: Invalid integer (write it with the digits 0-9)", code="validation_error",
                               detail={key: ["Invalid integer"]})
    if n < minimum:
        raise ValidationFailed(f"{key}: Must be a natural number", code="validation_error", detail={key: ["Must be a natural number"]})
    return n


def as_bool(v: Any, default: bool = False) -> bool:
    if v in (None, ""):
        return default
    if isinstance(v, bool):
        return v
    return str(v).strip().lower() in ("true", "1", "yes", "on")


def as_json_list(data: dict[str, Any], key: str) -> list[str]:
    v = data.get(key)
    if v in (None, ""):
        return []
    if isinstance(v, str):
        try:
            v = orjson.loads(v)
        except orjson.JSONDecodeError:
            v = [v] if v.isidentifier() else None
            if v is None:
                raise ValidationFailed(f"{key}: Could not parse as valid JSON", code="validation_error",
                                       detail={key: ["Could not parse as valid JSON"]}) from None
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValidationFailed(f"{key}: Not a list of strings", code="validation_error", detail={key: ["Not a list of strings"]})
    return v


def _id(data: dict[str, Any], field: str = "id") -> Any:
    """The id a ``_show`` (or write) names; without one, CKAN's Validation Error on ``field`` (package_show reads
    ``id``, then requires ``name_or_id``; the other actions require ``id``)."""
    v = data.get("id") or data.get("name_or_id") or data.get("name")
    if v in (None, ""):
        raise ValidationFailed(f"{field}: Missing value", code="validation_error", detail={field: ["Missing value"]})
    return v


LIST_SORT_FIELDS = ("name", "title", "package_count", "packages")


def list_sort(data: dict[str, Any]) -> tuple[str, bool]:
    """group_list and organization_list's ``sort`` as CKAN reads it: one field of name, title or package_count
    (``packages`` is its older name) and asc or desc; ``title`` by default, and ``package_count`` alone sorts
    descending. Returns (field, descending)."""
    raw = data.get("sort") or data.get("order_by") or "title"
    if not isinstance(raw, str):
        raise _sort_error(f"Cannot sort by field `{raw}`")
    if raw.strip() in ("packages", "package_count"):
        raw = "package_count desc"
    parts = [p.strip().split() for p in raw.split(",")]
    out: list[tuple[str, str]] = []
    for words in parts:
        field = words[0] if words else ""
        order = words[1].lower() if len(words) > 1 else "asc"
        if field not in LIST_SORT_FIELDS:
            raise _sort_error(f"Cannot sort by field `{field}`")
        if order not in ("asc", "desc"):
            raise _sort_error(f"Invalid sort direction `{order}`")
        out.append(("package_count" if field == "packages" else field, order))
    if len(out) > 1:
        raise _sort_error("Too many sort criteria provided only 1 allowed")
    return out[0][0], out[0][1] == "desc"


def _sort_error(message: str) -> ValidationFailed:
    return ValidationFailed(f"sort: {message}", code="validation_error", detail={"message": message})


# -- read actions ---------------------------------------------------------------------------------------------
@_reg(READ, "status_show")
async def status_show(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return svc.status_show()


@_reg(READ, "package_list")
async def package_list(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.package_list(ident, as_int(data, "limit", None), as_int(data, "offset", 0) or 0)


@_reg(READ, "package_show")
async def package_show(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.package_show(ident, _id(data, "name_or_id"), ctx["base_url"], usage_api="ckan")


@_reg(READ, "package_search")
async def package_search(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    fq = data.get("fq") or ""
    fq_list = data.get("fq_list") or []
    if isinstance(fq_list, str):
        fq_list = as_json_list(data, "fq_list")
    if not isinstance(fq, str):
        raise ValidationFailed("fq: Must be a string", code="validation_error", detail={"fq": ["Must be a string"]})
    parts = [f"({p})" for p in [fq, *fq_list] if isinstance(p, str) and p.strip()]
    q = data.get("q") or ""
    if not isinstance(q, str):
        raise ValidationFailed("q: Must be a string", code="validation_error", detail={"q": ["Must be a string"]})
    sort = data.get("sort")
    if sort is not None and not isinstance(sort, str):
        raise SearchQueryError("sort must be a string like 'metadata_modified desc'.")
    facet_limit = as_int(data, "facet.limit", 50, minimum=-(10**12)) or 0
    res = await svc.package_search(
        ident, q=q, fq=" AND ".join(parts), facet_fields=as_json_list(data, "facet.field"),
        rows=as_int(data, "rows", 10) or 0, start=as_int(data, "start", 0) or 0, sort=sort, facet_limit=facet_limit,
        include_private=as_bool(data.get("include_private"), True), base_url=ctx["base_url"], ext_bbox=data.get("ext_bbox"),
        facet_mincount=as_int(data, "facet.mincount", 1) or 0)
    publish_usage(svc.platform.bus, ident, "search", "ckan")
    return res


@_reg(READ, "organization_list")
async def organization_list(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.organization_list(ident, as_bool(data.get("all_fields")), as_int(data, "limit", None),
                                       as_int(data, "offset", 0) or 0, sort=list_sort(data))


@_reg(READ, "organization_show")
async def organization_show(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.organization_show(ident, _id(data), as_bool(data.get("include_datasets")), ctx["base_url"])


@_reg(READ, "group_list")
async def group_list(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.group_list(ident, as_bool(data.get("all_fields")), as_int(data, "limit", None),
                                as_int(data, "offset", 0) or 0, sort=list_sort(data))


@_reg(READ, "group_show")
async def group_show(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.group_show(ident, _id(data), as_bool(data.get("include_datasets")), ctx["base_url"])


@_reg(READ, "tag_list")
async def tag_list(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    tags = await svc.tag_list(ident, str(data.get("query") or data.get("q") or ""))
    if as_bool(data.get("all_fields")):
        return [{"name": t, "display_name": t, "vocabulary_id": None} for t in tags]
    return tags


@_reg(READ, "license_list")
async def license_list(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return svc.license_list()


@_reg(READ, "resource_show")
async def resource_show(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.resource_show(ident, _id(data), ctx["base_url"], usage_api="ckan")


@_reg(READ, "quality_show")
async def quality_show(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    out = await svc.quality(ident, _id(data))
    out["freshness"] = await svc.freshness(_id(data))
    return out


@_reg(READ, "inventory_list")
async def inventory_list(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.inventory(ident, ctx["base_url"])


@_reg(READ, "usage_show")
async def usage_show(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    Gate.require(ident, "admin")
    await svc.usage.flush()
    return await usage_rows(svc.platform, data.get("dataset") or None, data.get("since") or None)


@_reg(READ, "help_show")
async def help_show(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    name = str(data.get("name") or "")
    if name in READ or name in WRITE:
        fn = (READ.get(name) or WRITE[name])
        return f"{name}: see the CKAN Action API documentation and docs/catalog.md. ({fn.__name__})"
    raise NotFound("Action not found")


@_reg(READ, "member_list")
async def member_list(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.db.read(lambda c: list_members(c, svc.gate, ident, data))


@_reg(READ, "organization_list_for_user")
async def organization_list_for_user(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    with_count = as_bool(data.get("include_dataset_count"))

    def tx(c: Connection) -> list[dict[str, Any]]:
        found = organizations_for_user(c, ident, data)
        counts = svc.reads.org_counts(c, ident) if with_count else {}
        return [{**org_dict(o), "capacity": cap, **({"package_count": counts.get(o["name"], 0)} if with_count else {})}
                for o, cap in found]
    return await svc.db.read(tx)


# -- write actions --------------------------------------------------------------------------------------------
@_reg(WRITE, "package_create")
async def package_create(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.package_create(ident, data, ctx["base_url"])


@_reg(WRITE, "package_update")
async def package_update(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    _id(data)
    return await svc.package_update(ident, data, ctx["base_url"])


@_reg(WRITE, "package_patch")
async def package_patch(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    _id(data)
    return await svc.package_patch(ident, data, ctx["base_url"])


@_reg(WRITE, "package_delete")
async def package_delete(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    await svc.package_delete(ident, _id(data))
    return None


@_reg(WRITE, "dataset_purge")
async def dataset_purge(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    await svc.dataset_purge(ident, _id(data))
    return None


@_reg(WRITE, "resource_create")
async def resource_create(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.resource_create(ident, data, ctx.get("upload"), ctx["base_url"])


@_reg(WRITE, "resource_update")
async def resource_update(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.resource_update(ident, data, ctx.get("upload"), ctx["base_url"])


@_reg(WRITE, "resource_patch")
async def resource_patch(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.resource_patch(ident, data, ctx.get("upload"), ctx["base_url"])


@_reg(WRITE, "resource_delete")
async def resource_delete(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    await svc.resource_delete(ident, _id(data))
    return None


@_reg(WRITE, "organization_create")
async def organization_create(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.organization_create(ident, data)


@_reg(WRITE, "group_create")
async def group_create(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.group_create(ident, data)


@_reg(WRITE, "member_create")
async def member_create(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.member_create(ident, data)


@_reg(WRITE, "member_delete")
async def member_delete(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    await svc.member_delete(ident, data)
    return None


@_reg(WRITE, "organization_member_create")
async def organization_member_create(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    return await svc.member_create(ident, organization_member(data))


@_reg(WRITE, "organization_member_delete")
async def organization_member_delete(svc: CatalogService, ident: Identity, data: dict[str, Any], ctx: Ctx) -> Any:
    await svc.member_delete(ident, organization_member(data, role=False))
    return None


def extra_actions(platform: Platform) -> Mapping[str, CkanAction]:
    """The extra actions other capabilities serve through this API (none without a CkanActionsPort): its provider's
    and its contributors' (:meth:`urbanos.platform.Platform.contribute`); a name the first one serves stays its."""
    out: dict[str, CkanAction] = {}
    for port in platform.contributions(CkanActionsPort):
        for name, fn in port.ckan_actions().items():
            out.setdefault(name, fn)
    return out


def action_names(platform: Platform) -> list[str]:
    return sorted({*READ, *WRITE, *extra_actions(platform)})


async def dispatch(platform: Platform, name: str, identity: Identity, data: dict[str, Any], *, method: str = "POST",
                   upload: tuple[str, bytes] | None = None, base_url: str = "") -> Any:
    svc: CatalogService = platform.services["catalog"]
    if not isinstance(data, dict):
        raise BadRequest("Bad request - JSON Error: the request body must be a JSON object.")
    ctx: Ctx = {"base_url": base_url, "upload": upload}
    if name in READ:
        return await READ[name](svc, identity, data, ctx)
    if name in WRITE:
        if method == "GET":
            raise BadRequest(f"Bad request - {name} must be called with POST.")
        return await WRITE[name](svc, identity, data, ctx)
    extra = extra_actions(platform).get(name)
    if extra is not None:
        if upload is not None:
            data = {**data, "upload": upload}
        return await extra(platform, identity, data)
    raise BadRequest(f"Bad request - Action name not known: {name}", code="action_unknown")


def ckan_error(exc: UrbanosError) -> tuple[int, dict[str, Any]]:
    """CKAN's status and ``error`` object for an urbanos error."""
    if exc.code == "search_query_error" or isinstance(exc, SearchQueryError):
        return 400, {"__type": "Search Query Error", "message": f"Search Query is invalid: {exc.message}"}
    if exc.status in (401, 403):
        return 403, {"__type": "Authorization Error", "message": f"Access denied: {exc.message.removeprefix('Access denied: ')}"}
    if exc.status == 404:
        return 404, {"__type": "Not Found Error", "message": f"Not found: {exc.message}"}
    if exc.code == "validation_error" or exc.status == 409 or exc.status == 413 or isinstance(exc, ValidationFailed):
        detail = dict(exc.detail) if exc.detail else {}
        if not detail:
            field = "upload" if exc.status == 413 else "message"
            detail = {field: [exc.message]}
        return 409, {"__type": "Validation Error", **detail}
    if exc.status == 400 or exc.status == 415:
        return 400, {"__type": "Bad Request", "message": exc.message}
    return exc.status, {"__type": "Internal Server Error" if exc.status >= 500 else "Error", "message": exc.message}


__all__ = ["dispatch", "ckan_error", "action_names", "extra_actions", "READ", "WRITE"]
