"""The first features of a collection as one GeoJSON FeatureCollection, for the portal's dataset preview.

Registered as ``platform.services["feature_preview"]``: ``await preview(identity, collection, limit)``. It reads
through the same service call as an OGC API Features items request (``FeaturesService.items``), so the same gate
check (a collection the caller may not read is a NotFound, exactly like a missing one), the same privacy transforms
and the same read audit (``ogcapi.items``) and usage event apply. The answer carries no links: the portal serves it
to signed-in browsers, for which the OGC API links (read without the portal's sign-in) would not work.
"""

from __future__ import annotations

from typing import Any

from urbanos.features.ogcapi.documents import feature_collection
from urbanos.features.ogcapi.params import parse_items


def feature_preview(platform: Any) -> Any:
    async def preview(identity: Any, collection: str, limit: int) -> dict[str, Any]:
        """Up to ``limit`` features of ``collection`` (in feature id order, CRS84) as a FeatureCollection dict."""
        svc = platform.services["features"]
        size = max(1, min(int(limit), int(svc.max_limit)))

        def parse(fields: set[str]) -> Any:
            return parse_items({"limit": str(size)}, fields=fields, default_limit=size, max_limit=size)

        res = await svc.items(identity, collection, parse)
        return feature_collection(res.features, res.number_matched)

    return preview


__all__ = ["feature_preview"]
