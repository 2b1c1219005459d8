"""The registry of applications and showcases: what ckanext-showcase's actions do, with an owning organisation.

* Everyone reads showcases (they are public descriptions of applications); the datasets a showcase uses are listed
  only when the reader may read them (the gate), and the API token names linked to it (its ``applications``, as the
  usage counts name them) only to publishers of its organisation.
* Publishers of the owning organisation create, change and delete a showcase and its links; moving a showcase to
  another organisation needs the publisher role there too.
* A dataset is linked only when the caller may read it: another organisation's open dataset is fine, a dataset it
  may not read is answered 404 as one that does not exist.
* A token name is linked when a token of that name belongs to the showcase's organisation; a token of no
  organisation (a consumer's reader token) only by an admin. One token name belongs to one showcase.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from urbanos.cockpit.showcases import store
from urbanos.core.time import now_stored
from urbanos.errors import NotFound, ValidationFailed
from urbanos.governance import Gate, Identity
from urbanos.governance.tokens import list_tokens
from urbanos.ports import CatalogPort, DatasetRef

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

NAME_RE = re.compile(r"^[a-z0-9_-]{2,100}$")
TITLE_MAX, NOTES_MAX, URL_MAX, APPS_MAX, APP_MAX = 200, 10_000, 1_000, 50, 200
FIELDS = ("name", "title", "notes", "url", "image_url", "owner_org")


def _error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"Validation error: {field}: {message}", code="validation_error", detail={field: [message]})


def _url(errors: dict[str, list[str]], field: str, v: Any) -> str:
    """An http(s) URL or a path on this site ("" for none): never ``javascript:`` or ``data:``."""
    if v in (None, ""):
        return ""
    if not isinstance(v, str) or len(v) > URL_MAX or any(ch.isspace() or ord(ch) < 32 for ch in v):
        errors.setdefault(field, []).append(f"Must be a URL of at most {URL_MAX} characters, without spaces")
        return ""
    if not (re.match(r"^https?://[^/\s]+", v, re.I) or (v.startswith("/") and not v.startswith("//"))):
        errors.setdefault(field, []).append("Must be an http:// or https:// URL, or a path on this site (/dashboards/x)")
    return v


def _text(errors: dict[str, list[str]], field: str, v: Any, limit: int, required: bool = False) -> str:
    if v in (None, ""):
        if required:
            errors.setdefault(field, []).append("Missing value")
        return ""
    if not isinstance(v, str) or len(v) > limit:
        errors.setdefault(field, []).append(f"Must be a string of at most {limit} characters")
        return ""
    return v


@dataclass(frozen=True)
class Fields:
    name: str
    title: str
    notes: str
    url: str
    image_url: str
    owner_org: str
    applications: list[str] | None  # None: leave as they are


def validate(data: Any, current: dict[str, Any] | None) -> Fields:
    """Every field of a showcase (``current``: the stored one an update starts from); all errors at once."""
    if not isinstance(data, dict):
        raise _error("__root__", "The showcase must be a JSON object")
    base = {**(current or {}), **{k: v for k, v in data.items() if k in FIELDS or k == "applications"}}
    errors: dict[str, list[str]] = {}
    name = base.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        errors["name"] = ["Must be 2 to 100 characters: lowercase letters, digits, - and _"]
    title = _text(errors, "title", base.get("title"), TITLE_MAX) or (name if isinstance(name, str) else "")
    notes = _text(errors, "notes", base.get("notes"), NOTES_MAX)
    url, image = _url(errors, "url", base.get("url")), _url(errors, "image_url", base.get("image_url"))
    org = _text(errors, "owner_org", base.get("owner_org"), 100, required=True)
    apps = data.get("applications")
    if apps is not None:
        if not isinstance(apps, list) or len(apps) > APPS_MAX or not all(
                isinstance(a, str) and 0 < len(a) <= APP_MAX for a in apps):
            errors["applications"] = [f"Must be a list of at most {APPS_MAX} API token names"]
            apps = None
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(f"Validation error: {first}: {errors[first][0]}", code="validation_error", detail=errors)
    return Fields(str(name), title, notes, url, image, org, None if apps is None else sorted(set(apps)))


class ShowcaseService:
    """Showcases over the cockpit's tables; datasets through :class:`urbanos.ports.CatalogPort`."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db
        self.gate = platform.gate

    def _catalog(self) -> CatalogPort:
        return self.platform.require(CatalogPort)  # type: ignore[no-any-return]

    # -- reading ------------------------------------------------------------------------------------------------
    def readable(self, c: Connection, identity: Identity, key: Any) -> DatasetRef | None:
        """The active dataset ``key`` (name, UUID or id) when ``identity`` may read it, else None."""
        if key in (None, "") or not isinstance(key, (str, int)) or isinstance(key, bool):
            return None
        ref = self._catalog().dataset(c, key)
        if ref is None or ref.state != "active":
            return None
        ds, grants = self.gate.dataset_access(c, ref.id)
        return ref if ds is not None and self.gate.can_read(identity, ds, grants) else None

    def as_dict(self, c: Connection, identity: Identity, row: dict[str, Any], base: str = "") -> dict[str, Any]:
        """The showcase as ckanext-showcase answers it (a package of type ``showcase``), with its owner, the datasets
        the caller may read and, for publishers of its organisation, its applications."""
        datasets = [d for d in (self.readable(c, identity, i) for i in store.dataset_ids(c, row["id"])) if d]
        image = row["image_url"]
        out = {"id": row["id"], "type": "showcase", "name": row["name"], "title": row["title"], "notes": row["notes"],
               "url": row["url"], "image_url": image, "image_display_url": base + image if image.startswith("/") else image,
               "owner_org": row["owner_org"], "metadata_created": row["created_at"],
               "metadata_modified": row["modified_at"], "num_datasets": len(datasets),
               "datasets": [{"name": d.name, "title": d.title} for d in datasets]}
        if Gate.can_write(identity, row["owner_org"]) and not identity.is_anonymous:
            out["applications"] = store.applications(c, row["id"])
        return out

    def find(self, c: Connection, key: Any) -> dict[str, Any]:
        row = store.find(c, key) if isinstance(key, str) and key else None
        if row is None:
            raise NotFound("Showcase not found")
        return row

    async def show(self, identity: Identity, key: Any, base: str = "") -> dict[str, Any]:
        return await self.db.read(lambda c: self.as_dict(c, identity, self.find(c, key), base))

    async def showcases(self, identity: Identity, base: str = "", dataset: Any = None) -> list[dict[str, Any]]:
        """Every showcase by title, or those using ``dataset`` (404 when the caller may not read it)."""
        def tx(c: Connection) -> list[dict[str, Any]]:
            if dataset is None:
                rows = store.all_rows(c)
            else:
                ref = self.readable(c, identity, dataset)
                if ref is None:
                    raise NotFound("Dataset not found")
                rows = store.rows_of_dataset(c, ref.id)
            return [self.as_dict(c, identity, r, base) for r in rows]
        return await self.db.read(tx)

    async def datasets(self, identity: Identity, key: Any) -> list[DatasetRef]:
        """The datasets showcase ``key`` uses that the caller may read."""
        def tx(c: Connection) -> list[DatasetRef]:
            row = self.find(c, key)
            return [d for d in (self.readable(c, identity, i) for i in store.dataset_ids(c, row["id"])) if d]
        return await self.db.read(tx)

    async def annotate(self, identity: Identity, figures: dict[str, Any]) -> None:
        """Add to the usage cockpit's ``figures`` the showcases using each dataset (``showcases``: those linked to a
        dataset the viewer may read) and, beside each application (token name), the showcase it is linked to."""
        def tx(c: Connection) -> tuple[dict[int, DatasetRef | None], list[tuple[int, str, str]], dict[str, tuple[str, str]]]:
            links = store.showcases_of_datasets(c)
            return {i: self.readable(c, identity, i) for i in {ln[0] for ln in links}}, links, store.applications_map(c)

        refs, links, apps = await self.db.read(tx)
        by_name: dict[str, list[dict[str, str]]] = {}
        for ds_id, name, title in links:
            ref = refs.get(ds_id)
            if ref is not None:
                by_name.setdefault(ref.name, []).append({"name": name, "title": title})
        for item in figures.get("datasets", []):
            item["showcases"] = by_name.get(item["dataset"], [])
            for a in item.get("applications", []):
                linked = apps.get(a["application"])
                if linked is not None:
                    a["showcase"] = {"name": linked[0], "title": linked[1]}

    # -- writing ------------------------------------------------------------------------------------------------
    def _may_write(self, identity: Identity, org: str) -> None:
        Gate.require(identity, "publisher", org)

    def _check_apps(self, c: Connection, identity: Identity, showcase_id: str, org: str, apps: list[str]) -> None:
        tokens = {t.name: t for t in list_tokens(c) if t.revoked_at is None}
        for app in apps:
            tok = tokens.get(app)
            ok = tok is not None and (tok.org == org or (identity.is_admin and tok.org is None))
            if not ok:
                raise _error("applications", f"No API token named {app!r} of organisation {org} (a token of no "
                                             "organisation is linked by an admin)")
            other = store.showcase_of_application(c, app)
            if other is not None and other != showcase_id:
                raise _error("applications", f"The application {app!r} belongs to another showcase")

    async def create(self, identity: Identity, data: Any, base: str = "") -> dict[str, Any]:
        Gate.require_somewhere(identity, "publisher")
        if isinstance(data, dict) and isinstance(data.get("owner_org"), str):
            self._may_write(identity, data["owner_org"])  # refused before any field message
        f = validate(data, None)
        self._may_write(identity, f.owner_org)

        def tx(c: Connection) -> dict[str, Any]:
            if store.find(c, f.name) is not None:
                raise _error("name", "That URL is already in use.")
            sid = str(uuid.uuid4())
            ts = now_stored()
            store.insert(c, {"id": sid, "name": f.name, "title": f.title, "notes": f.notes, "url": f.url,
                             "image_url": f.image_url, "owner_org": f.owner_org, "created_by": identity.subject,
                             "created_at": ts, "modified_at": ts})
            if f.applications:
                self._check_apps(c, identity, sid, f.owner_org, f.applications)
                store.set_applications(c, sid, f.applications)
            return self.as_dict(c, identity, self.find(c, sid), base)
        return await self.db.write(tx)

    async def update(self, identity: Identity, data: Any, base: str = "", patch: bool = True) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise _error("__root__", "The showcase must be a JSON object")

        def tx(c: Connection) -> dict[str, Any]:
            row = self.find(c, data.get("id") or data.get("name"))
            self._may_write(identity, row["owner_org"])
            keep = row if patch else {"name": row["name"], "owner_org": row["owner_org"]}
            f = validate({k: v for k, v in data.items() if k != "id"}, keep)
            if f.owner_org != row["owner_org"]:
                self._may_write(identity, f.owner_org)
            other = store.find(c, f.name)
            if other is not None and other["id"] != row["id"]:
                raise _error("name", "That URL is already in use.")
            store.update(c, row["id"], {"name": f.name, "title": f.title, "notes": f.notes, "url": f.url,
                                        "image_url": f.image_url, "owner_org": f.owner_org, "modified_at": now_stored()})
            if f.applications is not None:
                self._check_apps(c, identity, row["id"], f.owner_org, f.applications)
                store.set_applications(c, row["id"], f.applications)
            return self.as_dict(c, identity, self.find(c, row["id"]), base)
        return await self.db.write(tx)

    async def delete(self, identity: Identity, key: Any) -> None:
        def tx(c: Connection) -> None:
            row = self.find(c, key)
            self._may_write(identity, row["owner_org"])
            store.delete(c, row["id"])
        await self.db.write(tx)

    async def link(self, identity: Identity, showcase: Any, dataset: Any, *, add: bool) -> dict[str, str]:
        """Link (``add``) or unlink a dataset the caller may read to a showcase of its organisation."""
        def tx(c: Connection) -> dict[str, str]:
            row = self.find(c, showcase)
            self._may_write(identity, row["owner_org"])
            ref = self.readable(c, identity, dataset)
            if ref is None:
                raise NotFound("Dataset not found")
            linked = ref.id in store.dataset_ids(c, row["id"])
            if add and linked:
                raise _error("package_id", "The dataset is already linked to this showcase")
            if not add and not linked:
                raise NotFound("The dataset is not linked to this showcase")
            if add:
                store.link(c, row["id"], ref.id, now_stored())
            else:
                store.unlink(c, row["id"], ref.id)
            return {"showcase_id": row["id"], "package_id": ref.name}
        return await self.db.write(tx)


__all__ = ["ShowcaseService", "validate", "Fields", "NAME_RE"]
