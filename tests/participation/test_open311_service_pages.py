"""The stewards' pages for Open311 services: list, create, change and delete through forms with the page's CSRF
token, the same checks as the API (a steward of another organisation is refused), refused forms listing every
problem and storing nothing."""

from __future__ import annotations

import re
from typing import Any

from tests.participation.o311 import ADMIN, report, setup_city

BASE = "/participation/services"


def _csrf(client: Any, path: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    page = client.get(path, headers=headers)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    client.cookies.clear()
    return found.group(1), {**headers, "Cookie": f"urbanos_participation_csrf={found.group(1)}"}


def _codes(client: Any) -> list[str]:
    return [s["service_code"] for s in client.get("/open311/v2/services.json").json()]


def test_a_steward_manages_services_in_the_portal(client: Any) -> None:
    city = setup_city(client)
    roads = {"Authorization": f"Bearer {city['roads']}"}
    assert client.get(BASE).status_code == 404  # not signed in
    page = client.get(BASE, headers=roads)
    assert page.status_code == 200 and "pothole" in page.text and "bulky" not in page.text  # waste's service
    csrf, h = _csrf(client, f"{BASE}/new", roads)
    assert 'value="roads"' in client.get(f"{BASE}/new", headers=roads).text  # the one organisation, prefilled
    form = {"csrf": csrf, "service_code": "streetlight", "service_name": "Street light out", "type": "realtime",
            "organization": "roads", "sensitive": "1", "group": "lighting", "keywords": "lamp",
            "attributes": '[{"code": "pole", "datatype": "string", "description": "Pole number"}]'}
    r = client.post(f"{BASE}/new", data=form, headers=h, follow_redirects=False)
    assert r.status_code == 303 and "done=streetlight" in r.headers["location"], r.text
    one = next(s for s in client.get("/open311/v2/services.json").json() if s["service_code"] == "streetlight")
    assert one["sensitive"] is True and one["metadata"] is True and one["organization"] == "roads"
    edit = client.get(f"{BASE}/streetlight/edit?lang=de", headers=roads)
    assert edit.status_code == 200 and "Dienst streetlight ändern" in edit.text and "Pole number" in edit.text
    changed = {**form, "service_name": "Street light dark", "sensitive": ""}
    del changed["service_code"]
    r = client.post(f"{BASE}/streetlight/edit", data=changed, headers=h, follow_redirects=False)
    assert r.status_code == 303, r.text
    one = next(s for s in client.get("/open311/v2/services.json").json() if s["service_code"] == "streetlight")
    assert one["service_name"] == "Street light dark" and one["sensitive"] is False
    assert client.get(f"{BASE}/streetlight/delete", headers=roads).status_code == 200
    r = client.post(f"{BASE}/streetlight/delete", data={"csrf": csrf}, headers=h, follow_redirects=False)
    assert r.status_code == 303 and "streetlight" not in _codes(client)


def test_refused_forms_store_nothing(client: Any) -> None:
    city = setup_city(client)
    roads = {"Authorization": f"Bearer {city['roads']}"}
    csrf, h = _csrf(client, f"{BASE}/new", roads)
    before = client.get("/open311/v2/services.json").json()
    good = {"csrf": csrf, "service_code": "bench", "service_name": "Broken bench", "organization": "roads"}
    cases = [
        ({**good, "service_name": "", "attributes": "[{"}, 400, "attributes"),  # two problems, both listed
        ({**good, "service_code": "bad code!"}, 400, "service_code"),
        ({**good, "type": "sometimes"}, 400, "type"),
        ({**good, "organization": "waste"}, 403, None),  # a steward of roads only
        ({**good, "organization": "nowhere"}, 403, None),
        ({**good, "service_code": "pothole"}, 409, None),
        ({**good, "extra": "x"}, 400, "unknown field"),
        ({**good, "attributes": '{"code": 1}'}, 400, "attributes"),
    ]
    for data, status, text in cases:
        r = client.post(f"{BASE}/new", data=data, headers=h)
        assert r.status_code == status, (data, r.text[:500])
        assert 'id="form-errors"' in r.text and (text is None or text in r.text)
        assert 'value="Broken bench"' in r.text or not data["service_name"]  # what was typed is kept
    r = client.post(f"{BASE}/new", data={**good, "service_name": ""}, headers=h)
    assert 'id="service_name" name="service_name" value="" required maxlength="200" size="50" aria-invalid="true"' \
        in r.text
    assert client.post(f"{BASE}/new", data={**good, "csrf": "forged"}, headers=h).status_code == 403
    assert client.post(f"{BASE}/new", data=good, headers=roads).status_code == 403  # no CSRF cookie
    assert client.post(f"{BASE}/new", data={**good, "description": "x" * 70000}, headers=h).status_code in (400, 413)
    assert client.post(f"{BASE}/new", content=b"\xff\xfe", headers={**h, "Content-Type": "text/plain"}).status_code \
        == 400
    assert client.post(f"{BASE}/new", data=good).status_code == 404  # not signed in
    assert client.get(f"{BASE}/nothing/edit", headers=roads).status_code == 404
    r = client.post(f"{BASE}/nothing/edit", data={**good, "service_code": ""}, headers=h)
    assert r.status_code == 404
    # another organisation's service: not changed, not deleted
    waste = {k: v for k, v in good.items() if k != "service_code"}
    assert client.post(f"{BASE}/bulky/edit", data={**waste, "organization": "waste"}, headers=h).status_code == 403
    assert client.post(f"{BASE}/bulky/delete", data={"csrf": csrf}, headers=h).status_code == 403
    # a service with requests is not deleted
    report(client, city["citizen"])
    r = client.post(f"{BASE}/pothole/delete", data={"csrf": csrf}, headers=h)
    assert r.status_code == 409 and 'id="form-errors"' in r.text
    assert client.get("/open311/v2/services.json").json() == before
    assert client.get(BASE, headers=ADMIN).text.count("<code>") == 2  # an admin sees every service
