"""ckanapi against the in-process app: a requests-like session for ``ckanapi.RemoteCKAN`` that hands each call to the
test client, so a CKAN client's own encoding and error mapping run without a server process."""

from __future__ import annotations

from typing import Any

import ckanapi

BASE = "http://testserver"


class InProcessSession:
    """What ``RemoteCKAN`` asks of a ``requests.Session``: ``post`` (and ``get`` for ``get_only`` clients)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, url: str, data: Any = None, headers: dict[str, str] | None = None, files: Any = None,
             allow_redirects: bool = False, **_: Any) -> Any:
        if files:
            return self.client.post(url, data=data, files=files, headers=headers)
        return self.client.post(url, content=data, headers=headers)

    def get(self, url: str, params: Any = None, headers: dict[str, str] | None = None, **_: Any) -> Any:
        return self.client.get(url, params=params, headers=headers)

    def close(self) -> None:
        return None


def ckan(client: Any, apikey: str | None = None) -> ckanapi.RemoteCKAN:
    """A ckanapi client of the in-process app (anonymous without ``apikey``)."""
    return ckanapi.RemoteCKAN(BASE, apikey=apikey, session=InProcessSession(client))


__all__ = ["InProcessSession", "ckan", "BASE"]
