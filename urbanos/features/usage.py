"""Reads of features' data reported as typed :class:`~urbanos.events.Usage` events on the bus (the catalogue's
usage statistics subscribe): anonymous, the dataset, collection, API, action and registered application only."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from urbanos.events import Usage, UsageKind

if TYPE_CHECKING:
    from urbanos.features.store import CollectionMeta
    from urbanos.governance import DatasetAccess, Identity
    from urbanos.platform import Platform

log = logging.getLogger("urbanos.features")


def publish_usage(platform: Platform, identity: Identity, kind: UsageKind, api: str, meta: CollectionMeta,
                  ds: DatasetAccess | None, *, action: str, resource: str = "") -> None:
    """Tell this process's subscribers that ``identity`` read collection ``meta`` (of dataset ``ds``) through
    ``api``. Statistics never break a read: a failure is logged."""
    usage = Usage(kind=kind, api=api, dataset=ds.name if ds is not None else "", dataset_id=meta.dataset_id,
                  resource=resource, collection=meta.name, action=action, application=identity.application or "")
    try:
        platform.bus.deliver_local([usage.to_event()])
    except Exception:  # noqa: BLE001 - statistics must never break a read
        log.exception("usage event failed")


__all__ = ["publish_usage"]
