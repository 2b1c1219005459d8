"""The stewards' connector forms in the portal: a publisher creates, changes, runs and deletes a connector with the
portal's sign-in cookie; a publisher of another organisation changes nothing; a form without its CSRF token is a 403;
a refused form is shown again naming the field, and nothing is stored; hostile text stays inert."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from tests.connectors.feeds import Files
from tests.connectors.helpers import ADMIN, counts, dataset, datastreams, observations, token
from tests.local_http import Server

CSV = b"time,pm10\n2026-01-01T10:00:00Z,12.5\n2026-01-01T11:00:00Z,13\n"
HTML = {"Accept": "text/html"}


def _browser(capp: Any, tok: str | None) -> TestClient:
    """A client of its own (its own cookie jar), signed in with the portal's cookie when ``tok`` is given."""
    c = TestClient(capp, raise_server_exceptions=False)
    if tok:
        c.cookies.set("urbanos_portal_token", tok)
    return c


def _csrf(c: TestClient, path: str) -> str:
    r = c.get(path, headers=HTML)
    assert r.status_code == 200, r.text
    m = re.search(r'name="csrf" value="([^"]+)"', r.text)
    assert m is not None
    return m.group(1)


def _names(cclient: Any) -> set[str]:
    return {c["name"] for c in cclient.get("/connectors", headers=ADMIN).json()["connectors"]}


def _world(cclient: Any, cplatform: Any, files: Files, prefix: str) -> tuple[str, str, int]:
    dataset(cplatform, f"{prefix}-air", org=f"{prefix}-a")
    dataset(cplatform, f"{prefix}-roads", org=f"{prefix}-b")
    (ds,) = datastreams(cclient, f"{prefix}-air", f"{prefix} pm10")
    files.values[f"/{prefix}.csv"] = CSV
    return (token(cclient, "publisher", f"{prefix}-a", f"{prefix}-pa"),
            token(cclient, "publisher", f"{prefix}-b", f"{prefix}-pb"), ds)


def _create(c: TestClient, csrf: str, **fields: Any) -> Any:
    return c.post("/connectors/new", data={"csrf": csrf, "enabled": "1", **fields}, headers=HTML, follow_redirects=False)


def test_a_publisher_creates_changes_runs_and_deletes_a_connector(capp: Any, cclient: Any, cplatform: Any,
                                                                   feed: Server, files: Files) -> None:
    pa, _, ds = _world(cclient, cplatform, files, "life")
    c = _browser(capp, pa)
    form = c.get("/connectors/new?lang=de", headers=HTML)
    assert form.status_code == 200 and "Neuer Konnektor" in form.text
    assert '<option value="life-air"' in form.text and "life-roads" not in form.text  # only its own datasets
    csrf = _csrf(c, "/connectors/new")
    mapping = f"observations:\n  - {{datastream: {ds}, time: time, result: pm10}}\n"
    r = _create(c, csrf, name="life-feed", type="csv", url=f"{feed.url}/life.csv", dataset="life-air", every="5m",
                mapping=mapping)
    assert r.status_code == 303 and r.headers["location"] == "/connectors/life-feed?f=html", r.text
    shown = cclient.get("/connectors/life-feed", headers=ADMIN).json()
    assert shown["schedule"]["every_seconds"] == 300 and shown["mapping"]["observations"][0]["datastream"] == ds
    assert "life-feed" in c.get("/connectors?f=html", headers=HTML).text
    page = c.get("/connectors/life-feed?f=html", headers=HTML)
    assert page.status_code == 200 and 'action="/connectors/life-feed/run-now' in page.text
    # change: schedule by cron, disabled
    r = c.post("/connectors/life-feed/edit", data={"csrf": csrf, "url": f"{feed.url}/life.csv", "cron": "*/10 * * * *",
                                                  "every": "", "mapping": mapping}, follow_redirects=False)
    assert r.status_code == 303, r.text
    shown = cclient.get("/connectors/life-feed", headers=ADMIN).json()
    assert shown["schedule"] == {"every_seconds": None, "cron": "*/10 * * * *"} and shown["enabled"] is False
    # run now (a disabled connector still runs by hand, as over the API)
    r = c.post("/connectors/life-feed/run-now", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert observations(cclient, ds) == [("2026-01-01T10:00:00Z", 12.5), ("2026-01-01T11:00:00Z", 13)]
    runs = cclient.get("/connectors/life-feed", headers=ADMIN).json()["runs"]
    assert counts(runs[0]) == (2, 0, 0, 0) and runs[0]["trigger"] == "manual"
    # delete, after a confirmation page
    confirm = c.get("/connectors/life-feed/delete", headers=HTML)
    assert confirm.status_code == 200 and 'action="/connectors/life-feed/delete' in confirm.text
    r = c.post("/connectors/life-feed/delete", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and "life-feed" not in _names(cclient)
    assert len(observations(cclient, ds)) == 2  # what it wrote stays


def test_a_refused_form_names_the_field_and_stores_nothing(capp: Any, cclient: Any, cplatform: Any, feed: Server,
                                                           files: Files) -> None:
    pa, _, ds = _world(cclient, cplatform, files, "bad")
    c = _browser(capp, pa)
    csrf = _csrf(c, "/connectors/new")
    good = {"name": "bad-feed", "type": "csv", "url": f"{feed.url}/bad.csv", "dataset": "bad-air",
            "mapping": f"observations: [{{datastream: {ds}, time: time, result: pm10}}]"}
    cases = [({"url": "ftp://x/</script><img src=x onerror=alert(1)>"}, "url"), ({"cron": "61 * * * *"}, "cron"),
             ({"every": "soon"}, "every"), ({"mapping": "observations: [unclosed"}, "mapping"),
             ({"name": "Bad Name"}, "name"), ({"type": "telnet"}, "type"), ({"every": "5m", "cron": "* * * * *"}, "every")]
    for change, field in cases:
        r = _create(c, csrf, **{**good, **change})
        assert r.status_code == 400, (change, r.text)
        assert f'id="{field}"' in r.text and 'aria-invalid="true"' in r.text and 'role="alert"' in r.text, change
        assert "<img src=x" not in r.text and "</script><img" not in r.text
        assert "bad-feed" not in _names(cclient)
    # the form keeps what was typed
    r = _create(c, csrf, **{**good, "every": "soon"})
    assert 'value="soon"' in r.text and "datastream" in r.text
    # a change refused: the connector stays as it was
    assert _create(c, csrf, **good).status_code == 303
    r = c.post("/connectors/bad-feed/edit", data={"csrf": csrf, "url": "nope", "mapping": good["mapping"]})
    assert r.status_code == 400 and 'id="url"' in r.text
    assert cclient.get("/connectors/bad-feed", headers=ADMIN).json()["url"] == good["url"]


def test_a_publisher_of_another_organisation_changes_nothing(capp: Any, cclient: Any, cplatform: Any, feed: Server,
                                                             files: Files) -> None:
    pa, pb, ds = _world(cclient, cplatform, files, "org")
    mapping = f"observations: [{{datastream: {ds}, time: time, result: pm10}}]"
    a = _browser(capp, pa)
    assert _create(a, _csrf(a, "/connectors/new"), name="org-feed", type="csv", url=f"{feed.url}/org.csv",
                   dataset="org-air", mapping=mapping).status_code == 303
    before = cclient.get("/connectors/org-feed", headers=ADMIN).json()
    b = _browser(capp, pb)
    csrf = _csrf(b, "/connectors/new")
    assert "org-feed" not in b.get("/connectors?f=html", headers=HTML).text
    for path in ("/connectors/org-feed?f=html", "/connectors/org-feed/edit", "/connectors/org-feed/delete"):
        assert b.get(path, headers=HTML).status_code in (403, 404), path
    for path, data in (("/connectors/org-feed/edit", {"url": "https://example.org/x.csv", "every": "1m"}),
                       ("/connectors/org-feed/run-now", {}), ("/connectors/org-feed/delete", {})):
        r = b.post(path, data={"csrf": csrf, **data}, follow_redirects=False)
        assert r.status_code in (403, 404), (path, r.text)
    # nor may it create a connector into the other organisation's dataset
    r = _create(b, csrf, name="org-sneaky", type="csv", url=f"{feed.url}/org.csv", dataset="org-air", mapping=mapping)
    assert r.status_code in (403, 404)
    after = cclient.get("/connectors/org-feed", headers=ADMIN).json()
    assert after == before and "org-sneaky" not in _names(cclient) and observations(cclient, ds) == []
    # without sign-in: 401, a page with a sign-in link for a browser
    anon = _browser(capp, None)
    r = anon.get("/connectors/new", headers=HTML)
    assert r.status_code == 401 and "/signin?next=" in r.text
    assert anon.post("/connectors/org-feed/run-now", data={}).status_code == 401


def test_a_form_without_its_csrf_token_is_refused(capp: Any, cclient: Any, cplatform: Any, feed: Server,
                                                 files: Files) -> None:
    pa, _, ds = _world(cclient, cplatform, files, "csrf")
    c = _browser(capp, pa)
    csrf = _csrf(c, "/connectors/new")
    body = {"name": "csrf-feed", "type": "csv", "url": f"{feed.url}/csrf.csv", "dataset": "csrf-air",
            "mapping": f"observations: [{{datastream: {ds}, time: time, result: pm10}}]"}
    assert c.post("/connectors/new", data=body).status_code == 403
    assert c.post("/connectors/new", data={**body, "csrf": "x" * 43}).status_code == 403
    assert "csrf-feed" not in _names(cclient)
    assert _create(c, csrf, **body).status_code == 303
    for path in ("/connectors/csrf-feed/edit", "/connectors/csrf-feed/run-now", "/connectors/csrf-feed/delete"):
        assert c.post(path, data={"url": "https://example.org/y.csv"}).status_code == 403, path
    shown = cclient.get("/connectors/csrf-feed", headers=ADMIN).json()
    assert shown["url"] == body["url"] and shown["runs"] == []
    # a bearer-token client needs no CSRF token (no cookie to ride on)
    r = cclient.post("/connectors/csrf-feed/run-now", data={}, headers={**ADMIN}, follow_redirects=False)
    assert r.status_code == 303


def test_hostile_text_stays_inert_and_webhook_secret_is_shown_once(capp: Any, cclient: Any, cplatform: Any,
                                                                   files: Files) -> None:
    pa, _, _ = _world(cclient, cplatform, files, "xss")
    c = _browser(capp, pa)
    csrf = _csrf(c, "/connectors/new")
    hostile = "</script><script>alert(1)</script>"
    mapping = f'observations: [{{datastream: "{hostile}", time: t, result: v}}]'
    r = _create(c, csrf, name="xss-push", type="webhook", url="", dataset="xss-air", mapping=mapping)
    assert r.status_code == 201, r.text
    secret = re.search(r'<code id="secret">([0-9a-f]{64})</code>', r.text)
    assert secret is not None and "/ingest/xss-push" in r.text
    page = c.get("/connectors/xss-push?f=html", headers=HTML)
    assert page.status_code == 200 and hostile not in page.text and "&lt;/script&gt;" in page.text
    assert secret.group(1) not in page.text  # shown once only
    assert "run-now" not in page.text  # a webhook runs when pushed
    edit = c.get("/connectors/xss-push/edit", headers=HTML)
    assert hostile not in edit.text and 'id="every"' not in edit.text


def test_malformed_oversized_and_unknown_answer_4xx(capp: Any, cclient: Any, cplatform: Any, files: Files) -> None:
    pa, _, _ = _world(cclient, cplatform, files, "odd")
    c = _browser(capp, pa)
    csrf = _csrf(c, "/connectors/new")
    base = {"csrf": csrf, "name": "odd-feed", "type": "csv", "url": "https://example.org/a.csv", "dataset": "odd-air"}
    assert c.post("/connectors/new", data={**base, "mapping": "x" * (70 * 1024)}).status_code == 400
    assert c.post("/connectors/new", content=b'{"name": "odd-feed"}',
                  headers={"Content-Type": "application/json"}).status_code == 400
    assert c.post("/connectors/new", data={**base, **{f"f{i}": "x" for i in range(30)}}).status_code == 400
    r = c.post("/connectors/new", data={**base, "dataset": "no-such-dataset",
                                        "mapping": "observations: [{datastream: x, time: t, result: v}]"})
    assert r.status_code == 404
    for path in ("/connectors/nope/edit", "/connectors/nope/delete"):
        assert c.get(path, headers=HTML).status_code == 404
        assert c.post(path, data={"csrf": csrf}).status_code == 404
    assert c.post("/connectors/nope/run-now", data={"csrf": csrf}).status_code == 404
    r = c.get("/connectors/nope/edit")  # not a browser: the platform's problem details
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert "odd-feed" not in _names(cclient)
    # the name of the form's address is kept for it
    r = c.post("/connectors/new", data={**base, "name": "new"})
    assert r.status_code == 400 and 'id="name"' in r.text and "new" not in _names(cclient)


def test_the_landing_page_links_the_connectors(cclient: Any) -> None:
    page = cclient.get("/")
    assert page.status_code == 200 and 'href="/connectors"' in page.text
    anonymous = cclient.get("/connectors", headers={"Accept": "text/html"})
    assert anonymous.status_code == 401 and "sign in" in anonymous.text.lower()  # the page asks publishers to sign in
