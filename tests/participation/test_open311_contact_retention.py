"""Contact details of closed service requests are erased after ``participation_contact_retention_days`` by the
privacy purge (a dry run counts them, a real run erases them and leaves a deletion record on /transparency); the
request and its history stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.participation.o311 import ADMIN, EMAIL, report, setup_city
from urbanos.cli.main import cli


@pytest.fixture
def settings(make_settings: Any) -> Any:
    return make_settings(participation_posts_per_minute=1000, participation_posts_per_minute_per_address=1000,
                         participation_open_data_org="roads", participation_contact_retention_days=30)


def _contacts(platform: Any) -> dict[int, str]:
    rows = platform.db.read_sync(lambda c: c.fetchall("SELECT request_id, email FROM participation_contacts"))
    return {int(r[0]): r[1] for r in rows}


def _close(client: Any, key: str, rid: str, state: str = "closed") -> None:
    r = client.post(f"/open311/v2/requests/{rid}/updates.json", data={"api_key": key, "status": state})
    assert r.status_code == 200 and r.json()[0]["update"] == "applied", r.text


def test_contacts_are_erased_after_the_period(client: Any, platform: Any, db_url: str, tmp_path: Path) -> None:
    city = setup_city(client)
    old, recent, still_open, duplicate = (report(client, city["citizen"]).json()[0]["service_request_id"]
                                          for _ in range(4))
    for rid in (old, recent):
        _close(client, city["roads"], rid)
    _close(client, city["roads"], duplicate, "duplicate")
    long_ago = (datetime.now(UTC) - timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    platform.db.write_sync(lambda c: c.execute(  # closed 31 days ago (and the open one reported then)
        "UPDATE participation_requests SET state_at = ? WHERE id IN (?, ?, ?)",
        (long_ago, int(old), int(still_open), int(duplicate))))
    assert len(_contacts(platform)) == 4
    cli_args = ["--db", db_url, "--data-dir", str(tmp_path / "cli")]
    days = ["--set", "participation_contact_retention_days=30", "--set", "participation_open_data_org=roads"]
    out = CliRunner().invoke(cli, [*days, "purge", "--dry-run", *cli_args])
    assert out.exit_code == 0, out.output
    assert "2 rows would be deleted under 0 rules and 1 periods of personal data" in out.output, out.output
    assert len(_contacts(platform)) == 4
    assert client.get("/transparency", params={"f": "json"}).json()["deletions"] == []
    out = CliRunner().invoke(cli, [*days, "purge", *cli_args])
    assert out.exit_code == 0 and "2 rows deleted" in out.output, out.output
    assert set(_contacts(platform)) == {int(recent), int(still_open)}
    # the requests stay, with their history
    for rid in (old, duplicate):
        r = client.get(f"/open311/v2/requests/{rid}.json", params={"extensions": "true"})
        assert r.status_code == 200 and r.json()[0]["status"] == "closed"
        assert r.json()[0]["extended_attributes"]["notes"]
    records = client.get("/transparency", params={"f": "json"}).json()["deletions"]
    assert [(d["dataset"], d["scope"], d["row_count"], d["days"]) for d in records] == [
        ("open311-requests", "contacts", 2, 30)]
    page = client.get("/transparency", headers={"Accept": "text/html"}).text
    assert "contact details of closed Open311 service requests" in page and EMAIL not in page
    from urbanos.ports import AuditPort

    platform.require(AuditPort).flush_sync()
    r = client.get("/audit", headers=ADMIN, params={"action": "retention.purged"})
    assert r.status_code == 200 and "open311" in r.text
    # a second run finds nothing due and writes no record
    out = CliRunner().invoke(cli, [*days, "purge", *cli_args])
    assert "0 rows deleted" in out.output
    assert len(client.get("/transparency", params={"f": "json"}).json()["deletions"]) == 1


def test_the_scheduled_purge_erases_them_too(client: Any, platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from urbanos.privacy.retention import service as retention_service

    city = setup_city(client)
    rid = report(client, city["citizen"]).json()[0]["service_request_id"]
    _close(client, city["roads"], rid)
    purge = platform.services["privacy_retention"].purge_sync
    assert purge() == []  # closed just now: nothing due
    later = datetime.now(UTC) + timedelta(days=31)
    monkeypatch.setattr(retention_service, "clock", lambda: later)
    assert [r["rows"] for r in purge()] == [1]
    assert _contacts(platform) == {}
    assert client.get(f"/open311/v2/requests/{rid}.json").status_code == 200
