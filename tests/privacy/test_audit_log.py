"""The audit log itself: token changes recorded, stewards see their organisations' entries only, filters and pages,
no route changes it, and ``urbanos audit verify`` proves the chain and names the first broken entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.privacy.conftest import ADMIN_H, entries
from urbanos.cli.main import cli


def _verify(db_url: str, tmp_path: Path) -> Any:
    return CliRunner().invoke(cli, ["audit", "verify", "--db", db_url, "--data-dir", str(tmp_path / "data")])


def test_token_create_and_revoke_are_logged(client: Any, orgs: dict[str, Any]) -> None:
    r = client.post("/admin/tokens", json={"role": "publisher", "org": "org-a", "name": "feeder"}, headers=ADMIN_H)
    assert r.status_code == 201
    token = r.json()
    assert client.delete(f"/admin/tokens/{token['id']}", headers=ADMIN_H).status_code == 204
    got = [e for e in entries(client) if e["object_kind"] == "token" and e["object_id"] == str(token["id"])]
    assert [e["action"] for e in got] == ["token.revoked", "token.created"]
    assert all(e["actor"] == "admin-token" and e["org"] == "org-a" for e in got)
    assert got[1]["details"] == {"name": "feeder", "org": "org-a", "role": "publisher"}
    assert token["token"] not in str(entries(client))  # never the secret


def test_stewards_see_their_organisations_entries(client: Any, orgs: dict[str, Any]) -> None:
    h = orgs["h"]
    assert client.get("/api/3/action/package_show?id=org-a-private", headers=h["reader-a"]).status_code == 200
    assert client.get("/api/3/action/package_show?id=org-b-private", headers=ADMIN_H).status_code == 200
    seen_a = {e["dataset"] for e in entries(client, h["steward-a"], action="read")}
    seen_b = {e["dataset"] for e in entries(client, h["steward-b"], action="read")}
    assert seen_a == {"org-a-private"} and seen_b == {"org-b-private"}
    assert {e["org"] for e in entries(client, h["steward-a"])} == {"org-a"}
    assert {"org-a-private", "org-b-private"} <= {e["dataset"] for e in entries(client, action="read")}
    assert client.get("/audit", headers=h["reader-a"]).status_code == 403
    assert client.get("/audit", headers=h["publisher-a"]).status_code == 403
    assert client.get("/audit").status_code == 401
    page = client.get("/audit", headers={**h["steward-a"], "Accept": "text/html"}, params={"lang": "de"})
    assert page.status_code == 200 and "Protokoll" in page.text and "org-b-private" not in page.text
    assert "Audit trail" in client.get("/audit?f=html", headers=ADMIN_H).text


def test_filters_paging_and_bad_parameters(client: Any, orgs: dict[str, Any]) -> None:
    for _ in range(3):
        client.get("/api/3/action/package_show?id=org-a-private", headers=orgs["h"]["reader-a"])
    mine = entries(client, actor=orgs["subject"]["reader-a"])
    assert len(mine) == 3 and all(e["action"] == "read" for e in mine)
    first = client.get("/audit", params={"limit": 2}, headers=ADMIN_H).json()
    assert len(first["entries"]) == 2 and first["next"]
    second = client.get(first["next"], headers=ADMIN_H).json()
    assert second["entries"][0]["seq"] == first["entries"][-1]["seq"] - 1
    assert entries(client, since="2999-01-01") == []
    assert entries(client, until="2000-01-01") == []
    assert len(entries(client, since="2000-01-01T00:00:00Z")) >= 3
    for bad in ({"limit": "0"}, {"limit": "x"}, {"limit": "100000"}, {"since": "yesterday"}, {"before": "-1"},
                {"dataset": "x" * 400}):
        r = client.get("/audit", params=bad, headers=ADMIN_H)
        assert r.status_code == 400, (bad, r.text)


def test_nobody_changes_the_log_through_the_platform(client: Any, orgs: dict[str, Any]) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = client.request(method, "/audit", headers=ADMIN_H, json={"seq": 1})
        assert r.status_code == 405, (method, r.text)
    assert entries(client)


def test_verify_intact_then_update_caught(client: Any, platform: Any, orgs: dict[str, Any], db_url: str,
                                          tmp_path: Path) -> None:
    n = len(entries(client))
    assert n >= 6  # the tokens of the fixture
    ok = _verify(db_url, tmp_path)
    assert ok.exit_code == 0, ok.output
    assert f"{n} entries verified" in ok.output
    platform.db.write_sync(lambda c: c.execute("UPDATE privacy_audit_log SET actor = 'someone else' WHERE seq = 3"))
    bad = _verify(db_url, tmp_path)
    assert bad.exit_code == 1 and "broken at entry 3" in bad.output and "content differs" in bad.output


def test_verify_catches_a_deleted_row(client: Any, platform: Any, orgs: dict[str, Any], db_url: str,
                                      tmp_path: Path) -> None:
    assert len(entries(client)) >= 6
    platform.db.write_sync(lambda c: c.execute("DELETE FROM privacy_audit_log WHERE seq = 4"))
    bad = _verify(db_url, tmp_path)
    assert bad.exit_code == 1 and "broken at entry 4" in bad.output and "missing" in bad.output, bad.output


def test_verify_catches_a_removed_tail_and_a_relinked_entry(client: Any, platform: Any, orgs: dict[str, Any],
                                                            db_url: str, tmp_path: Path) -> None:
    last = entries(client)[0]["seq"]
    platform.db.write_sync(lambda c: c.execute("DELETE FROM privacy_audit_log WHERE seq = ?", (last,)))
    bad = _verify(db_url, tmp_path)
    assert bad.exit_code == 1 and f"broken at entry {last}" in bad.output, bad.output
    platform.db.write_sync(lambda c: c.execute("UPDATE privacy_audit_log SET prev_hash = ? WHERE seq = 2", ("0" * 64,)))
    bad = _verify(db_url, tmp_path)
    assert bad.exit_code == 1 and "broken at entry 2" in bad.output and "prev_hash" in bad.output, bad.output


def test_access_level_and_membership_changes_are_logged(client: Any, orgs: dict[str, Any]) -> None:
    r = client.post("/api/3/action/package_patch", json={"id": "org-a-private", "access_level": "confidential"},
                    headers=ADMIN_H)
    assert r.status_code == 200, r.text
    got = [e for e in entries(client, dataset="org-a-private") if e["action"] == "dataset.updated"]
    assert got and got[0]["details"]["access_level"] == "confidential" and got[0]["org"] == "org-a"
    created = [e for e in entries(client, orgs["h"]["steward-b"]) if e["action"] == "dataset.created"]
    assert [e["dataset"] for e in created] == ["org-b-private"]
    r = client.post("/api/3/action/member_create", json={"id": "org-a", "object": "token:99", "object_type": "user",
                                                         "capacity": "editor"}, headers=ADMIN_H)
    assert r.status_code == 200, r.text
    got = entries(client, orgs["h"]["steward-a"], action="membership.changed")
    assert got and got[0]["org"] == "org-a" and got[0]["details"] == {"member": "token:99", "capacity": "editor"}
