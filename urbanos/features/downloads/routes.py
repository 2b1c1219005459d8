"""The download routes (see docs/downloads.md):

* ``GET /ogcapi/collections/{id}/download?format=csv|geojson|parquet|xlsx``
* ``GET /download/{id}.{csv|geojson|parquet|xlsx}``
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse

from urbanos.errors import NotFound
from urbanos.features.downloads.encoders import FORMATS, parse_format
from urbanos.features.downloads.service import disposition, prepare, stream
from urbanos.routing import identity_of, platform_of

if TYPE_CHECKING:
    from urbanos.platform import Platform


async def _respond(request: Request, name: str, fmt_value: str | None) -> StreamingResponse:
    fmt = parse_format(fmt_value)
    platform = platform_of(request)
    identity = await identity_of(request)
    meta, ds = await prepare(platform, identity, name, fmt)
    return StreamingResponse(stream(platform, identity, meta, ds, fmt), media_type=FORMATS[fmt][0],
                             headers={"Content-Disposition": disposition(name, fmt)})


async def ogc_download(request: Request) -> StreamingResponse:
    return await _respond(request, request.path_params["collection_id"], request.query_params.get("format")
                          or request.query_params.get("f"))


async def short_download(request: Request) -> StreamingResponse:
    file = request.path_params["file"]
    name, dot, ext = file.rpartition(".")
    if not dot:
        raise NotFound(f"{file!r}: add the format as extension, e.g. {file}.csv")
    return await _respond(request, name, ext)


ROUTES = (
    ("/ogcapi/collections/{collection_id}/download", ogc_download),
    ("/download/{file}", short_download),
)


def mount(app: Starlette, platform: Platform) -> None:
    """Add the download routes (GET, after the application's own; not in its OpenAPI document)."""
    for path, endpoint in ROUTES:
        app.add_route(path, endpoint, methods=["GET"], include_in_schema=False)


__all__ = ["mount", "ROUTES", "ogc_download", "short_download"]
