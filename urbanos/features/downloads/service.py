"""Downloads of whole collections: the gate's checks, the usage event and the streamed bytes.

Rows are read in key-set batches (``store.query`` with ``after_fid``), each batch encoded to bytes in the reader
thread and sent at once, so memory stays constant whatever the size of the collection. Every download goes through
the gate (``can_read``, ``transform``, ``observe``) and publishes a usage event (API ``download``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from urbanos.errors import BadRequest, Conflict, NotFound
from urbanos.features import store
from urbanos.features.access import check_read, transform_rows
from urbanos.features.downloads.encoders import BATCH, FORMATS, XLSX_MAX_ROWS, encoder
from urbanos.features.usage import publish_usage
from urbanos.governance import Release

if TYPE_CHECKING:
    from urbanos.governance import DatasetAccess, Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.features.downloads")


async def prepare(platform: Platform, identity: Identity, name: str,
                  fmt: str) -> tuple[store.CollectionMeta, DatasetAccess | None]:
    """The collection ``name`` and its dataset, once the caller may download it as ``fmt``; reports the read."""
    def load(c: Connection) -> tuple[store.CollectionMeta, DatasetAccess | None]:
        meta = store.get_collection(c, name)
        if meta is None:
            raise NotFound(f"There is no collection {name!r}.", code="NotFound")
        return meta, check_read(platform, c, identity, meta)

    meta, ds = await platform.db.read(load)
    if fmt == "xlsx" and meta.item_count > XLSX_MAX_ROWS:
        raise BadRequest(f"collection {name!r} has {meta.item_count} rows, more than a worksheet holds. "
                         "Fix: download it as CSV or Parquet.", code="InvalidParameterValue")
    platform.gate.preflight(identity, ds, Release(shape="download", meta=[{"collection": name}]))
    platform.gate.observe(identity, ds, f"download {name} as {fmt}")
    publish_usage(platform, identity, "download", "download", meta, ds, action=fmt)
    return meta, ds


async def stream(platform: Platform, identity: Identity, meta: store.CollectionMeta, ds: DatasetAccess | None, fmt: str,
                 batch: int = BATCH) -> AsyncIterator[bytes]:
    """The bytes of the download. Each batch is read (key-set paging) and encoded in a reader thread.

    If the collection is replaced while the download runs, the download stops (the old version is gone)."""
    enc = encoder(fmt, meta)
    yield enc.start()
    last = 0
    while True:
        def step(c: Connection, after: int = last) -> tuple[bytes, int, int]:
            current = store.get_collection(c, meta.name)
            if current is None or current.table_name != meta.table_name:
                raise Conflict(f"collection {meta.name!r} was replaced during the download; download it again.")
            rows = store.query(c, meta, limit=batch, after_fid=after)
            if not rows:
                return b"", 0, after
            data = enc.add(transform_rows(platform, identity, ds, rows, "download", meta.name))
            return data, len(rows), rows[-1].fid

        try:
            data, n, last = await platform.db.read(step)
        except Conflict:
            log.warning("download of %s stopped: the collection was replaced", meta.name)
            return
        if data:
            yield data
        if n < batch:
            break
    for chunk in enc.finish():
        yield chunk


def disposition(name: str, fmt: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return f'attachment; filename="{safe}.{FORMATS[fmt][1]}"'


__all__ = ["prepare", "stream", "disposition"]
