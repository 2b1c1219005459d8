"""The planning pages in-process: the list and project page in English and German, hostile text inert, and the
contribute form's refusals (no CSRF token, not signed in, outside the area, unknown category, a malformed line)
storing nothing; a line drawn as typed points."""

from __future__ import annotations

import re
from typing import Any

from tests.participation.planning.helpers import PREFIX, contribute, make_project, org, token

HTML = {"Accept": "text/html"}


def _count(platform: Any) -> int:
    return int(platform.db.read_sync(lambda c: c.fetchval("SELECT COUNT(*) FROM participation_planning_contributions")))


def test_pages_and_the_contribute_form(client: Any, platform: Any) -> None:
    org(client, "plan-pages")
    h = token(client, "st-pages", "steward", "plan-pages")
    resident = token(client, "resident-pages")
    make_project(client, "pages", "plan-pages", h)
    contribute(client, "pages", resident, title="</script><script>alert(1)</script>")
    r = client.get(PREFIX, headers=HTML)
    assert r.status_code == 200 and "Pages" in r.text
    assert "Planungsvorhaben" in client.get(PREFIX + "?lang=de", headers=HTML).text
    page = client.get(f"{PREFIX}/pages", headers=HTML)
    assert page.status_code == 200 and "<script>alert(1)" not in page.text and "&lt;/script&gt;" in page.text
    assert 'id="sign-in-hint"' in page.text  # anonymous: no form
    de = client.get(f"{PREFIX}/pages?lang=de", headers={**HTML, **resident})
    assert 'id="contribute-form"' in de.text and "Ihr Beitrag" in de.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', de.text)
    assert csrf is not None
    form = {"title": "Bench", "text": "Here", "category": "Traffic", "lat": "53.553", "lon": "9.993"}
    before = _count(platform)
    assert client.post(f"{PREFIX}/pages/contribute", data=form, headers=resident).status_code == 403  # no token
    client.cookies.clear()
    sent = {**form, "csrf": csrf.group(1)}
    cookie = {"Cookie": f"urbanos_planning_csrf={csrf.group(1)}"}
    r = client.post(f"{PREFIX}/pages/contribute", data=sent, headers=cookie)  # not signed in
    assert r.status_code == 401 and 'id="form-errors"' in r.text
    for change, status in (({"lat": "53.7"}, 400), ({"category": "Nope"}, 400), ({"lat": "x"}, 400),
                           ({"text": "y" * 4001}, 400)):
        r = client.post(f"{PREFIX}/pages/contribute", data={**sent, **change}, headers={**cookie, **resident})
        assert r.status_code == status and 'id="form-errors"' in r.text, r.text[:300]
    assert _count(platform) == before
    r = client.post(f"{PREFIX}/pages/contribute", data=sent, headers={**cookie, **resident}, follow_redirects=False)
    assert r.status_code == 303 and "new=" in r.headers["location"]
    assert _count(platform) == before + 1
    # a line: its points typed (or clicked on the map) one "latitude, longitude" a line
    line = {**sent, "shape": "line", "line": "53.550, 9.990\n53.5525 9.9925;53.555,9.995", "lat": "", "lon": ""}
    for bad in ("53.55", "53.55, 9.99, 1", "x, y", "53.55, 9.99", "53.70, 9.99\n53.71, 9.99"):
        r = client.post(f"{PREFIX}/pages/contribute", data={**line, "line": bad}, headers={**cookie, **resident})
        assert r.status_code == 400 and 'id="form-errors"' in r.text and 'value="line" checked' in r.text, bad
    assert _count(platform) == before + 1
    r = client.post(f"{PREFIX}/pages/contribute", data=line, headers={**cookie, **resident}, follow_redirects=False)
    assert r.status_code == 303, r.text
    new = int(r.headers["location"].split("new=")[1].split("#")[0])
    got = client.get(f"{PREFIX}/pages/contributions/{new}").json()["geometry"]
    assert got == {"type": "LineString", "coordinates": [[9.99, 53.55], [9.9925, 53.5525], [9.995, 53.555]]}
    assert client.get(f"{PREFIX}/nowhere", headers=HTML).status_code == 404
