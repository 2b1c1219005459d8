"""The OGC API Features HTML pages: one id column in the items table, also when the data has a property named id."""

from __future__ import annotations

import re
from typing import Any

from shapely.geometry import Point

from urbanos.features import store


def _headers(html: str) -> list[str]:
    thead = re.search(r"<thead>(.*?)</thead>", html, re.S)
    assert thead is not None
    return re.findall(r"<th>(.*?)</th>", thead.group(1))


def test_items_table_has_one_id_column(client: Any, platform: Any) -> None:
    fields = [{"name": "id", "type": "string"}, {"name": "name", "type": "string"}]
    rows = [({"id": "DE-17", "name": "Alster"}, Point(10.0, 53.5)), ({"id": None, "name": "Elbe"}, Point(10.1, 53.5))]
    platform.db.write_sync(lambda c: store.replace_collection(c, "rivers", fields, rows))
    r = client.get("/ogcapi/collections/rivers/items?f=html")
    assert r.status_code == 200, r.text
    assert _headers(r.text) == ["id", "name"]
    cells = re.findall(r"<tr><td>(.*?)</td>", r.text)
    # the source's identifier names the feature; the link leads to the feature's page; without one, the feature id
    assert '/ogcapi/collections/rivers/items/1?f=html">DE-17</a>' in cells[0]
    assert '/ogcapi/collections/rivers/items/2?f=html">2</a>' in cells[1]
    assert r.text.count(">DE-17<") == 1


def test_items_table_without_an_id_property(client: Any, places: Any) -> None:
    r = client.get("/ogcapi/collections/places/items?f=html&limit=2")
    assert r.status_code == 200, r.text
    assert _headers(r.text) == ["id", "name", "kind", "pop", "score", "active", "observed"]
    assert '/ogcapi/collections/places/items/1?f=html">1</a>' in r.text
