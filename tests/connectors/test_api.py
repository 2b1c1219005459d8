"""The connectors' HTTP API: who may configure and run a connector (a publisher of the dataset's organisation, at
creation and at every run), bad input as 4xx that changes nothing, the steward's page in English and German, and
webhook pushes signed with HMAC-SHA256."""

from __future__ import annotations

from typing import Any

import orjson

from tests.connectors.feeds import Files
from tests.connectors.helpers import (
    ADMIN,
    add,
    bearer,
    counts,
    dataset,
    datastreams,
    observations,
    run,
    token,
)
from tests.local_http import Server
from urbanos.connectors.service import sign

PUSH = {"t": "2026-02-01T08:00:00Z", "v": 7}


def test_publisher_of_another_organisation_can_neither_add_nor_run(cclient: Any, cplatform: Any, feed: Server,
                                                                  files: Files) -> None:
    dataset(cplatform, "parks-data", org="parks")
    dataset(cplatform, "roads-data", org="roads")
    ids = datastreams(cclient, "parks-data", "parks v")
    files.values["/p.json"] = [{"t": "2026-01-01T00:00:00Z", "v": 1}]
    parks, roads = token(cclient, "publisher", "parks", "p"), token(cclient, "publisher", "roads", "r")
    reader = token(cclient, "reader", "parks", "reader")
    body = {"name": "parks-feed", "type": "json", "url": f"{feed.url}/p.json", "dataset": "parks-data",
            "mapping": {"datastream": ids[0], "time": "t", "result": "v"}}
    assert add(cclient, bearer(roads), **body).status_code == 403
    assert add(cclient, bearer(reader), **body).status_code == 403
    assert add(cclient, {}, **body).status_code == 401
    assert cclient.get("/connectors", headers=ADMIN).json()["connectors"] == [] or all(
        c["name"] != "parks-feed" for c in cclient.get("/connectors", headers=ADMIN).json()["connectors"])
    assert add(cclient, bearer(parks), **body).status_code == 201
    # the other organisation neither sees it, nor runs, changes or removes it
    assert all(c["name"] != "parks-feed" for c in cclient.get("/connectors", headers=bearer(roads)).json()["connectors"])
    assert cclient.post("/connectors/parks-feed/run", headers=bearer(roads)).status_code == 403
    assert cclient.patch("/connectors/parks-feed", json={"every": "1m"}, headers=bearer(roads)).status_code == 403
    assert cclient.delete("/connectors/parks-feed", headers=bearer(roads)).status_code == 403
    assert observations(cclient, ids[0]) == []
    # nor may it point the connector into its own dataset, or another into the parks' dataset
    body2 = {**body, "name": "sneaky", "dataset": "roads-data"}
    r = add(cclient, bearer(roads), **body2)  # the parks' Datastream, linked from the roads' own connector
    assert r.status_code == 400 and "is not in dataset 'roads-data'" in r.text, r.text
    assert all(c["name"] != "sneaky" for c in cclient.get("/connectors", headers=ADMIN).json()["connectors"])
    assert observations(cclient, ids[0]) == []
    assert counts(run(cclient, "parks-feed", bearer(parks))) == (1, 0, 0, 0)


def test_a_revoked_token_makes_runs_fail_with_the_reason(cclient: Any, cplatform: Any, feed: Server,
                                                        files: Files) -> None:
    dataset(cplatform, "rev-data", org="rev")
    ids = datastreams(cclient, "rev-data", "rev v")
    files.values["/rev.json"] = [{"t": "2026-01-01T00:00:00Z", "v": 1}]
    tok = token(cclient, "publisher", "rev", "rev")
    assert add(cclient, bearer(tok), name="rev-feed", type="json", url=f"{feed.url}/rev.json", dataset="rev-data",
               mapping={"datastream": ids[0], "time": "t", "result": "v"}).status_code == 201
    token_id = int(tok.split("_")[1])
    assert cclient.delete(f"/admin/tokens/{token_id}", headers=ADMIN).status_code in (200, 204)
    result = run(cclient, "rev-feed", ADMIN)
    assert result["status"] == "failed" and "is revoked" in result["errors"][0]
    assert observations(cclient, ids[0]) == []
    # a publisher of the organisation configures it again: the connector now writes as that identity
    other = token(cclient, "publisher", "rev", "rev2")
    changed = cclient.patch("/connectors/rev-feed", json={"enabled": True}, headers=bearer(other))
    assert changed.status_code == 200 and changed.json()["configured_by"] != f"token:{token_id}"
    assert counts(run(cclient, "rev-feed", bearer(other))) == (1, 0, 0, 0)


def test_bad_input_is_a_4xx_and_changes_nothing(cclient: Any, cplatform: Any) -> None:
    dataset(cplatform, "bad-data")
    stream = datastreams(cclient, "bad-data", "bad v")[0]
    base = {"name": "okname", "type": "csv", "url": "https://example.org/x.csv", "dataset": "bad-data",
            "mapping": {"datastream": stream, "time": "t", "result": "v"}}
    cases = [
        {**base, "name": "Bad Name"}, {**base, "type": "ftp"}, {**base, "url": "ftp://x/y"}, {**base, "url": 5},
        {**base, "dataset": "missing"}, {**base, "every": "5 minutes"}, {**base, "cron": "* * *"},
        {**base, "every": "5m", "cron": "* * * * *"}, {**base, "mapping": "observations: [ {"},
        {**base, "mapping": {"datastream": None}}, {**base, "extra": 1}, {**base, "cron": "61 * * * *"},
        {**base, "type": "gbfs", "mapping": {"nonsense": 1}},
        {**base, "mapping": {"datastream": 987654, "time": "t", "result": "v"}},  # no such Datastream in the dataset
    ]
    for body in cases:
        r = cclient.post("/connectors", json=body, headers=ADMIN)
        assert r.status_code in (400, 404), (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    for raw in (b"{", b"[]", b"\"x\""):
        assert cclient.post("/connectors", content=raw, headers={**ADMIN, "Content-Type": "application/json"}
                            ).status_code == 400
    assert cclient.get("/connectors/nope", headers=ADMIN).status_code == 404
    assert cclient.post("/connectors/nope/run", headers=ADMIN).status_code == 404
    assert cclient.get("/connectors/nope?f=xml", headers=ADMIN).status_code == 400
    assert cclient.get("/connectors", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert add(cclient, ADMIN, **base).status_code == 201
    assert add(cclient, ADMIN, **base).status_code == 409
    assert cclient.patch("/connectors/okname", json={"type": "json"}, headers=ADMIN).status_code == 400
    assert cclient.patch("/connectors/okname", json={"enabled": "yes"}, headers=ADMIN).status_code == 400
    shown = cclient.get("/connectors/okname", headers=ADMIN).json()
    assert shown["type"] == "csv" and shown["enabled"] is True and shown["runs"] == []
    r = cclient.patch("/connectors/okname", json={"cron": "*/5 * * * *"}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["schedule"] == {"every_seconds": None, "cron": "*/5 * * * *"}
    assert cclient.delete("/connectors/okname", headers=ADMIN).status_code == 204
    assert cclient.get("/connectors/okname", headers=ADMIN).status_code == 404


def test_the_page_in_english_and_german(cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    dataset(cplatform, "page-data")
    stream = datastreams(cclient, "page-data", "page v")[0]
    files.values["/page.json"] = b"not json</script><script>alert(1)</script>"
    assert add(cclient, ADMIN, name="page", type="json", url=f"{feed.url}/page.json", dataset="page-data",
               mapping={"datastream": stream, "time": "t", "result": "v"}).status_code == 201
    run(cclient, "page")
    en = cclient.get("/connectors/page?f=html", headers=ADMIN)
    assert en.status_code == 200 and en.headers["content-type"].startswith("text/html")
    assert "Last runs" in en.text and "failed" in en.text and "not valid JSON" in en.text
    de = cclient.get("/connectors/page", headers={**ADMIN, "Accept": "text/html", "Accept-Language": "de"})
    assert "Letzte Läufe" in de.text and "fehlgeschlagen" in de.text
    assert cclient.get("/connectors/page?f=html").status_code == 401
    reader = token(cclient, "reader", None, "page-reader")
    assert cclient.get("/connectors/page?f=html", cookies={"urbanos_portal_token": reader}).status_code == 403


def test_webhook_hmac_good_bad_missing_oversized_malformed(cclient: Any, cplatform: Any) -> None:
    dataset(cplatform, "hook-data")
    ids = datastreams(cclient, "hook-data", "hook v")
    r = add(cclient, ADMIN, name="hook", type="webhook", dataset="hook-data",
            mapping={"datastream": ids[0], "time": "t", "result": "v"})
    assert r.status_code == 201
    secret = r.json()["secret"]
    assert "secret" not in cclient.get("/connectors/hook", headers=ADMIN).json()
    body = orjson.dumps(PUSH)
    good = {"X-Urbanos-Signature": sign(secret, body), "Content-Type": "application/json"}
    assert cclient.post("/ingest/hook", content=body, headers={"Content-Type": "application/json"}).status_code == 401
    bad = {**good, "X-Urbanos-Signature": sign("wrong", body)}
    assert cclient.post("/ingest/hook", content=body, headers=bad).status_code == 401
    other = orjson.dumps({**PUSH, "v": 8})
    assert cclient.post("/ingest/hook", content=other, headers=good).status_code == 401  # signature of another body
    assert observations(cclient, ids[0]) == []
    ok = cclient.post("/ingest/hook", content=body, headers=good)
    assert ok.status_code == 200 and counts(ok.json()) == (1, 0, 0, 0)
    again = cclient.post("/ingest/hook", content=body, headers=good)
    assert counts(again.json()) == (0, 0, 1, 0)
    big = orjson.dumps([PUSH] * 200)
    assert cclient.post("/ingest/hook", content=big, headers={**good, "X-Urbanos-Signature": sign(secret, big)}
                        ).status_code == 413
    broken = b'{"t": "2026'
    r = cclient.post("/ingest/hook", content=broken, headers={**good, "X-Urbanos-Signature": sign(secret, broken)})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert observations(cclient, ids[0]) == [("2026-02-01T08:00:00Z", 7)]
    assert cclient.post("/ingest/nope", content=body, headers=good).status_code == 404
    assert cclient.post("/connectors/hook/run", headers=ADMIN).status_code == 409
    runs = cclient.get("/connectors/hook", headers=ADMIN).json()["runs"]
    assert [r["status"] for r in runs] == ["failed", "ok", "ok"]


def test_a_token_revoked_while_a_run_fetches_writes_nothing(cclient: Any, cplatform: Any, feed: Server,
                                                             files: Files) -> None:
    """The identity is rebuilt inside the writing transaction: a run (or a live batch) that started before its
    token was revoked and writes after it writes nothing. The old code checked the role again there but not the
    revocation, so what a long fetch brought in after the revocation was written (a live link's pull run did)."""
    import pytest

    from urbanos.connectors import store
    from urbanos.errors import Forbidden

    dataset(cplatform, "race-data", org="race")
    ids = datastreams(cclient, "race-data", "race v")
    tok = token(cclient, "publisher", "race", "race")
    assert add(cclient, bearer(tok), name="race-feed", type="json", url=f"{feed.url}/race.json", dataset="race-data",
               mapping={"datastream": ids[0], "time": "t", "result": "v"}).status_code == 201
    runner = cplatform.services["connectors"].runner
    conn = cplatform.db.read_sync(lambda c: store.require(c, "race-feed"))
    job = cclient.portal.call(runner._job, conn, None, None)  # the run begins: its identity is checked
    assert cclient.delete(f"/admin/tokens/{int(tok.split('_')[1])}", headers=ADMIN).status_code in (200, 204)

    class Writes:
        applied = False

        def apply(self, c: Any, job: Any, counts: Any) -> None:
            self.applied = True

    writes = Writes()
    with pytest.raises(Forbidden, match="is revoked"):
        cclient.portal.call(runner._write, job, writes)  # the fetch is done: the write comes after the revocation
    assert writes.applied is False and observations(cclient, ids[0]) == []
