"""A catalogue with one dataset per access level, tokens for every kind of caller, and a foreign row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from urbanos.governance.tokens import create_token

ADMIN = "test-admin-token-0123456789"


@dataclass
class Cat:
    client: Any
    platform: Any
    tokens: dict[str, str] = field(default_factory=dict)
    resources: dict[str, str] = field(default_factory=dict)
    visible: dict[str, set[str]] = field(default_factory=dict)
    datasets: dict[str, tuple[str, str, list[str]]] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        if who == "anonymous":
            return {}
        return {"Authorization": self.tokens[who]}

    def call(self, action: str, who: str = "anonymous", method: str = "GET", **kw: Any) -> Any:
        if method == "GET":
            return self.client.get(f"/api/3/action/{action}", params=kw, headers=self.h(who))
        return self.client.post(f"/api/3/action/{action}", json=kw, headers=self.h(who))


# dataset name -> (org, access level, grounds)
DATASETS = {
    "open-data": ("org-a", "open", []),
    "registered-data": ("org-a", "registered", ["third-party-rights"]),
    "internal-a": ("org-a", "internal", ["security"]),
    "internal-b": ("org-b", "internal", ["not-yet-processed"]),
    "confidential-plain": ("org-a", "confidential", ["gdpr-personal-data"]),
    "confidential-granted": ("org-a", "confidential", ["inspire-13-1-f"]),
}
# who -> names visible
VISIBLE = {
    "anonymous": {"open-data", "foreign-row"},
    "registered": {"open-data", "foreign-row", "registered-data"},
    "member-a": {"open-data", "foreign-row", "registered-data", "internal-a"},
    "grantee": {"open-data", "foreign-row", "registered-data", "confidential-granted"},
    "admin": {"open-data", "foreign-row", "registered-data", "internal-a", "internal-b", "confidential-plain", "confidential-granted"},
}


@pytest.fixture
def cat(client: Any, platform: Any) -> Cat:
    c = Cat(client, platform, visible=VISIBLE, datasets=DATASETS)
    db = platform.db
    c.tokens["admin"] = ADMIN
    c.tokens["registered"] = db.write_sync(lambda x: create_token(x, "reader", None, "registered-app"))
    c.tokens["member-a"] = db.write_sync(lambda x: create_token(x, "reader", "org-a", "member-app"))
    c.tokens["grantee"] = db.write_sync(lambda x: create_token(x, "reader", None, "grantee-app"))
    c.tokens["publisher-a"] = db.write_sync(lambda x: create_token(x, "publisher", "org-a", "publisher-app"))
    for org in ("org-a", "org-b"):
        r = c.call("organization_create", "admin", "POST", name=org, title=org.upper())
        assert r.status_code == 200, r.text
    for name, (org, level, grounds) in DATASETS.items():
        r = c.call("package_create", "admin", "POST", name=name, title=f"Title of {name}", owner_org=org, access_level=level,
                   grounds=grounds, tags=["common", level], notes=f"Notes about {name} and bicycles",
                   resources=[{"url": f"https://example.org/{name}.csv", "format": "CSV", "name": "table"}])
        assert r.status_code == 200, r.text
        c.resources[name] = r.json()["result"]["resources"][0]["id"]
    grantee_subject = "token:" + c.tokens["grantee"].split("_")[1]
    ts = "2024-01-01T00:00:00.000000Z"

    def tx(x: Any) -> None:
        ds_id = x.fetchval("SELECT id FROM datasets WHERE name = ?", ("confidential-granted",))
        x.execute("INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, ?, ?)", (ds_id, grantee_subject, ts))
        # a plain row as other capabilities insert it: governance columns only
        x.execute("INSERT INTO datasets (name, title, owner_org, access_level, created_at, modified_at, state)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?)", ("foreign-row", "Foreign bicycles row", None, "open", ts, ts, "active"))

    db.write_sync(tx)
    return c
