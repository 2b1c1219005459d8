"""Fetching resources created with a URL, for the DataStore (only http/https, size-limited, public hosts
unless allowed)."""

from __future__ import annotations

import os
from typing import Any

from urbanos.errors import ValidationFailed


def _public_host(host: str) -> bool:
    import ipaddress
    import socket

    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved or addr.is_multicast:
            return False
    return True


def fetch_url(platform: Any, url: str, resource_id: str, *, max_bytes: int, allow_private: bool) -> str:
    """Download ``url`` (http/https, size-limited) into the data directory; returns the file path."""
    from urllib.parse import urlsplit

    import httpx

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(f"cannot fetch {url!r}: only http and https URLs are imported")
    if not allow_private and not _public_host(parts.hostname):
        raise ValidationFailed(f"cannot fetch {url!r}: the host is not a public address")
    limit = max_bytes
    folder = os.path.join(str(platform.settings.data_dir), "imports")
    os.makedirs(folder, exist_ok=True)
    name = os.path.basename(parts.path) or "download"
    path = os.path.join(folder, f"{resource_id}-{''.join(ch if ch.isalnum() or ch in '-_.' else '_' for ch in name)}")
    size = 0
    try:
        with httpx.stream("GET", url, timeout=30.0, follow_redirects=False) as r, open(path, "wb") as fh:
            if r.status_code != 200:
                raise ValidationFailed(f"cannot fetch {url!r}: HTTP {r.status_code}")
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ValidationFailed(f"cannot fetch {url!r}: larger than {limit} bytes")
                fh.write(chunk)
    except httpx.HTTPError as exc:
        _remove(path)
        raise ValidationFailed(f"cannot fetch {url!r}: {type(exc).__name__}") from None
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
