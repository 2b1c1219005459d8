"""Fetching resources created with a URL, for the DataStore, through the platform's outbound-fetch policy
(``urbanos.governance.outbound``): only http/https, public addresses unless ``outbound_allow`` lists the host
(or ``datastore_fetch_private`` is on), the connection pinned to the checked address, redirects checked hop by
hop, size-limited while streaming."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from urbanos.errors import ValidationFailed
from urbanos.governance.outbound import OutboundPolicy, OutboundSyncClient

if TYPE_CHECKING:
    from urbanos.platform import Platform


def fetch_url(platform: Platform, url: str, resource_id: str, *, max_bytes: int, allow_private: bool,
              size_setting: str = "catalog_upload_max_bytes") -> str:
    """Download ``url`` into the data directory; returns the file path. Blocking: call it from a worker thread.

    ``allow_private`` lifts the address filter (connections stay pinned to the addresses resolved once).
    Refusals and failures are ``ValidationFailed`` (400); an answer larger than ``max_bytes`` is
    ``PayloadTooLarge`` (413) naming ``size_setting``."""
    gate = getattr(platform, "gate", None)
    policy: OutboundPolicy = getattr(gate, "outbound", None) or OutboundPolicy.from_settings(platform.settings)
    if allow_private:
        policy = policy.allowing_any_address()
    settings = platform.settings
    folder = os.path.join(str(settings.data_dir), "imports")
    os.makedirs(folder, exist_ok=True)
    name = os.path.basename(urlsplit(url).path) or "download"
    path = os.path.join(folder, f"{resource_id}-{''.join(ch if ch.isalnum() or ch in '-_.' else '_' for ch in name)}")
    try:
        with OutboundSyncClient(policy, timeout=float(settings.get("outbound_timeout", 30.0)), max_bytes=max_bytes,
                                size_setting=size_setting,
                                transfer_seconds=float(settings.get("outbound_transfer_seconds", 600.0)),
                                headers={"User-Agent": "urbanos-import"}) as client, open(path, "wb") as fh:
            got = client.get(url, sink=fh.write)
        if got.status != 200:
            raise ValidationFailed(f"cannot fetch {url!r}: HTTP {got.status}")
    except BaseException:
        _remove(path)
        raise
    return path


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


__all__ = ["fetch_url"]
