"""The algorithm register: entries in the Eurocities standard, versioned, linked to catalogue datasets.

Writes need the publisher role (or steward, or admin) for the entry's owning organisation; every change keeps a
version (who, when, which fields) and an audit entry. Linked datasets are checked through
:class:`urbanos.ports.CatalogPort` (they must exist and be visible to the writer) and shown to each reader only when
the reader may see them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from urbanos.core.time import now_stored
from urbanos.errors import NotFound, ValidationFailed
from urbanos.governance import Gate, Identity
from urbanos.ports import CatalogPort
from urbanos.privacy.algorithms.validate import validated
from urbanos.privacy.audit.chain import canonical
from urbanos.storage import Connection

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.privacy.audit.log import AuditLog

_COLS = "id, uuid, name, owner_org, record, version, created_at, created_by, modified_at, modified_by"


def _entry(row: tuple[Any, ...], datasets: list[str]) -> dict[str, Any]:
    return {"id": int(row[0]), "owner_org": row[3], "datasets": datasets, "record": json.loads(row[4]),
            "version": int(row[5]), "created_at": row[6], "created_by": row[7], "modified_at": row[8],
            "modified_by": row[9]}


def public_json(entry: dict[str, Any], base: str = "") -> dict[str, Any]:
    """An entry as the API answers it: flat, the standard's fields next to ``id``, ``url``, ``owner_org`` and
    ``datasets`` (a body that can be sent back with PUT)."""
    return {"id": entry["id"], "url": f"{base}/algorithms/{entry['id']}", "owner_org": entry["owner_org"],
            "datasets": entry["datasets"], "version": entry["version"], "created_at": entry["created_at"],
            "modified_at": entry["modified_at"], **entry["record"]}


class AlgorithmRegister:
    """``platform.services["algorithms"]``; also the :class:`urbanos.ports.TransparencyPort`."""

    def __init__(self, platform: Platform, audit: AuditLog) -> None:
        self.platform = platform
        self.db = platform.db
        self.gate = platform.gate
        self.audit = audit

    # -- reads --------------------------------------------------------------------------------------
    def _visible_datasets(self, c: Connection, identity: Identity, ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {i: [] for i in ids}
        if not ids:
            return out
        where, params = self.gate.dataset_row_filter(identity, "d")
        rows = c.fetchall(
            "SELECT ad.algorithm_id, ad.dataset FROM privacy_algorithm_datasets ad JOIN datasets d ON d.name = ad.dataset"
            f" WHERE ad.algorithm_id IN ({', '.join('?' * len(ids))}) AND d.state <> 'deleted' AND {where}"
            " ORDER BY ad.dataset", (*ids, *params))
        for aid, name in rows:
            out[int(aid)].append(str(name))
        return out

    def _load(self, c: Connection, identity: Identity, algo_id: int) -> dict[str, Any]:
        row = c.fetchone(f"SELECT {_COLS} FROM privacy_algorithms WHERE id = ?", (algo_id,))
        if row is None:
            raise NotFound(f"There is no algorithm register entry {algo_id}.")
        return _entry(row, self._visible_datasets(c, identity, [algo_id])[algo_id])

    def _all_datasets(self, c: Connection, algo_id: int) -> list[str]:
        return [str(r[0]) for r in c.fetchall(
            "SELECT dataset FROM privacy_algorithm_datasets WHERE algorithm_id = ? ORDER BY dataset", (algo_id,))]

    async def get(self, identity: Identity, algo_id: int) -> dict[str, Any]:
        return await self.db.read(lambda c: self._load(c, identity, algo_id))

    async def entries(self, identity: Identity, org: str | None = None) -> list[dict[str, Any]]:
        def read(c: Connection) -> list[dict[str, Any]]:
            sql, params = f"SELECT {_COLS} FROM privacy_algorithms", []  # type: tuple[str, list[Any]]
            if org:
                sql, params = sql + " WHERE owner_org = ?", [org]
            rows = c.fetchall(sql + " ORDER BY name, id", params)
            links = self._visible_datasets(c, identity, [int(r[0]) for r in rows])
            return [_entry(r, links[int(r[0])]) for r in rows]

        return await self.db.read(read)

    async def versions(self, algo_id: int) -> list[dict[str, Any]]:
        def read(c: Connection) -> list[dict[str, Any]]:
            if c.fetchone("SELECT 1 FROM privacy_algorithms WHERE id = ?", (algo_id,)) is None:
                raise NotFound(f"There is no algorithm register entry {algo_id}.")
            rows = c.fetchall("SELECT version, at, actor, change, changed FROM privacy_algorithm_versions"
                              " WHERE algorithm_id = ? ORDER BY version DESC", (algo_id,))
            return [{"version": int(r[0]), "at": r[1], "actor": r[2], "change": r[3], "changed": json.loads(r[4])}
                    for r in rows]

        return await self.db.read(read)

    async def algorithms_for_dataset(self, name: str) -> list[tuple[int, str, str]]:
        """:meth:`urbanos.ports.TransparencyPort.algorithms_for_dataset`."""
        rows = await self.db.read(lambda c: c.fetchall(
            "SELECT a.id, a.name FROM privacy_algorithms a JOIN privacy_algorithm_datasets ad ON ad.algorithm_id = a.id"
            " WHERE ad.dataset = ? ORDER BY a.name, a.id", (name,)))
        return [(int(r[0]), str(r[1]), f"/algorithms/{int(r[0])}") for r in rows]

    # -- writes -------------------------------------------------------------------------------------
    def _check_links(self, c: Connection, identity: Identity, org: str, datasets: list[str]) -> None:
        problems: dict[str, list[str]] = {}
        if c.fetchone("SELECT 1 FROM organizations WHERE name = ?", (org,)) is None:
            problems["owner_org"] = [f"there is no organisation {org!r}"]
        catalog = self.platform.optional(CatalogPort)
        for name in datasets:
            ref = catalog.dataset(c, name) if catalog is not None else None
            ds, grants = self.gate.dataset_access(c, ref.id) if ref is not None and ref.state != "deleted" else (None, [])
            # the gate's write rule: a caller that may read the dataset, or that publishes for its organisation
            # (a publisher feeds its confidential data without a grant to read it back), may link it
            if ds is None or not (self.gate.can_read(identity, ds, grants) or self.gate.can_write(identity, ds.owner_org)):
                problems.setdefault("datasets", []).append(f"there is no dataset {name!r}")
        if problems:
            raise ValidationFailed(f"The algorithm register entry is invalid: {', '.join(sorted(problems))}.",
                                   detail=problems)

    def save(self, c: Connection, identity: Identity, algo_id: int | None, record: dict[str, Any], org: str,
              datasets: list[str], change: str, changed: list[str]) -> int:
        now, actor = now_stored(), identity.subject
        if algo_id is None:
            algo_id = c.insert("privacy_algorithms", {
                "uuid": record["uuid"], "name": record["name"], "owner_org": org, "record": canonical(record),
                "version": 1, "created_at": now, "created_by": actor, "modified_at": now, "modified_by": actor})
            version = 1
        else:
            version = int(c.fetchval("SELECT version FROM privacy_algorithms WHERE id = ?", (algo_id,))) + 1
            c.execute("UPDATE privacy_algorithms SET uuid = ?, name = ?, owner_org = ?, record = ?, version = ?,"
                      " modified_at = ?, modified_by = ? WHERE id = ?",
                      (record["uuid"], record["name"], org, canonical(record), version, now, actor, algo_id))
            c.execute("DELETE FROM privacy_algorithm_datasets WHERE algorithm_id = ?", (algo_id,))
        c.executemany("INSERT INTO privacy_algorithm_datasets (algorithm_id, dataset) VALUES (?, ?)",
                      [(algo_id, d) for d in datasets])
        snapshot = canonical({"owner_org": org, "datasets": datasets, **record})
        c.execute("INSERT INTO privacy_algorithm_versions (algorithm_id, version, at, actor, change, changed, record)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?)", (algo_id, version, now, actor, change, canonical(changed), snapshot))
        return algo_id

    def _audit(self, identity: Identity, action: str, algo_id: int, org: str, name: str, changed: list[str]) -> None:
        self.audit.record(identity.subject, action, "algorithm", algo_id, org=org,
                          details={"name": name, "changed": changed})

    async def create(self, identity: Identity, body: Any) -> dict[str, Any]:
        Gate.require_somewhere(identity, "publisher")
        record, org, datasets = validated(body)
        Gate.require(identity, "publisher", org)

        def tx(c: Connection) -> int:
            self._check_links(c, identity, org, datasets)
            return self.save(c, identity, None, record, org, datasets, "created", sorted(record))

        algo_id = await self.db.write(tx)
        self._audit(identity, "algorithm.created", algo_id, org, record["name"], sorted(record))
        return await self.get(identity, algo_id)

    async def change(self, identity: Identity, algo_id: int, body: Any, *, partial: bool) -> dict[str, Any]:
        Gate.require_somewhere(identity, "publisher")

        def tx(c: Connection) -> tuple[str, list[str], str]:
            base = self._load(c, identity, algo_id)
            base["datasets"] = self._all_datasets(c, algo_id)
            Gate.require(identity, "publisher", base["owner_org"])
            record, org, datasets = validated(body, base, partial=partial)
            if org != base["owner_org"]:
                Gate.require(identity, "publisher", org)
            self._check_links(c, identity, org, [d for d in datasets if d not in base["datasets"]])
            changed = sorted(k for k in set(record) | set(base["record"])
                             if record.get(k) != base["record"].get(k) and k != "last_change_date")
            changed += [k for k, old, new in (("owner_org", base["owner_org"], org),
                                              ("datasets", base["datasets"], datasets)) if old != new]
            self.save(c, identity, algo_id, record, org, datasets, "patched" if partial else "replaced", changed)
            return org, changed, record["name"]

        org, changed, name = await self.db.write(tx)
        self._audit(identity, "algorithm.changed", algo_id, org, name, changed)
        return await self.get(identity, algo_id)

    async def delete(self, identity: Identity, algo_id: int) -> None:
        Gate.require_somewhere(identity, "publisher")

        def tx(c: Connection) -> tuple[str, str]:
            row = c.fetchone("SELECT owner_org, name, version FROM privacy_algorithms WHERE id = ?", (algo_id,))
            if row is None:
                raise NotFound(f"There is no algorithm register entry {algo_id}.")
            Gate.require(identity, "publisher", row[0])
            c.execute("DELETE FROM privacy_algorithm_datasets WHERE algorithm_id = ?", (algo_id,))
            c.execute("DELETE FROM privacy_algorithms WHERE id = ?", (algo_id,))
            c.execute("INSERT INTO privacy_algorithm_versions (algorithm_id, version, at, actor, change, changed, record)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?)", (algo_id, int(row[2]) + 1, now_stored(), identity.subject,
                                                        "deleted", "[]", "{}"))
            return str(row[0]), str(row[1])

        org, name = await self.db.write(tx)
        self._audit(identity, "algorithm.deleted", algo_id, org, name, [])


__all__ = ["AlgorithmRegister", "public_json"]
