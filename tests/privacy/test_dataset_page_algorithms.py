"""The dataset page names the algorithm register entries that use the dataset (through ``TransparencyPort``), only
to callers who may read the dataset, in English and German."""

from __future__ import annotations

from typing import Any

from tests.privacy.conftest import ADMIN_H
from tests.privacy.test_algorithms import BASE


def test_dataset_page_links_its_algorithms(client: Any, orgs: dict[str, Any]) -> None:
    r = client.post("/algorithms", json={**BASE, "datasets": ["open-data", "org-a-private"],
                                         "name": "Signal </script> control"}, headers=ADMIN_H)
    assert r.status_code == 201, r.text
    url = f"/algorithms/{r.json()['id']}"
    page = client.get("/datasets/open-data").text
    assert 'id="algorithms"' in page and f'href="{url}"' in page
    assert "Signal &lt;/script&gt; control" in page and "</script> control" not in page
    assert "Algorithmen, die diese Daten nutzen" in client.get("/datasets/open-data?lang=de").text
    # a dataset the caller may not read shows nothing, the register entry included
    assert client.get("/datasets/org-a-private").status_code == 404
    private = client.get("/datasets/org-a-private", headers=orgs["h"]["reader-a"]).text
    assert f'href="{url}"' in private
    assert 'id="algorithms"' not in client.get("/datasets/org-b-private", headers=ADMIN_H).text
