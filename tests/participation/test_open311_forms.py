"""Open311 posts as FixMyStreet sends them (a plain url-encoded body: ``+`` for spaces, UTF-8 percent-encoded), the
description's limit counted in characters, the limit per client address, and the demo's simulated reports."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from tests.conftest import api_token
from tests.participation.o311 import report, setup_city

FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_a_fixmystreet_style_plain_form_post(client: Any) -> None:
    tokens = setup_city(client)
    body = (f"api_key={tokens['citizen']}&jurisdiction_id=&service_code=pothole&lat=53.5503&long=9.992"
            "&address_string=M%C3%B6nckebergstra%C3%9Fe+7&description=Tiefes+Loch+vor+der+B%C3%A4ckerei"
            "&email=fms%40example.org&first_name=Frieda&last_name=M%C3%BCller&attribute%5Bsize%5D=large"
            "&media_url=https%3A%2F%2Fexample.org%2Fphoto.jpg")
    r = client.post("/open311/v2/requests.json", content=body.encode(), headers=FORM)
    assert r.status_code == 200, r.text
    one = client.get(f"/open311/v2/requests/{r.json()[0]['service_request_id']}.json").json()[0]
    assert one["description"] == "Tiefes Loch vor der Bäckerei" and one["address"] == "Mönckebergstraße 7"
    assert one["media_url"] == "https://example.org/photo.jpg" and "Müller" not in r.text + str(one)
    ok = report(client, tokens["citizen"], description="ä" * 4000)  # 4,000 characters (8,000 bytes) pass
    assert ok.status_code == 200, ok.text
    too_long = f"api_key={tokens['citizen']}&service_code=pothole&lat=1&long=1&attribute[size]=small&description="
    r = client.post("/open311/v2/requests.json", content=(too_long + quote_plus("ä" * 4001)).encode(), headers=FORM)
    assert r.status_code == 400 and "4000" in r.json()[0]["description"]


def test_rate_limit_per_client_address(make_settings: Any) -> None:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    settings = make_settings(participation_posts_per_minute=100, participation_posts_per_minute_per_address=3)
    with TestClient(create_app(settings)) as c:
        tokens = setup_city(c)
        codes = [report(c, api_token(c, f"app-{i}")).status_code for i in range(4)]  # a new token each time
        assert codes == [200, 200, 200, 429]
        assert report(c, tokens["citizen"]).status_code == 429


def test_the_demo_has_a_few_hundred_reports(platform: Any, client: Any) -> None:
    from urbanos.participation.open311 import demo

    demo.load_demo(platform)
    demo.load_demo(platform)  # idempotent
    count = platform.db.read_sync(lambda c: c.fetchval("SELECT COUNT(*) FROM participation_requests"))
    assert count == demo.REPORTS
    found = client.get("/open311/v2/requests.json", params={"page_size": "1000"}).json()
    assert len(found) == demo.REPORTS and {r["status"] for r in found} == {"open", "closed"}
    assert len(client.get("/open311/v2/requests.json", params={"status": "open"}).json()) > 50


def test_xml_stays_well_formed_for_any_code_and_text(client: Any) -> None:
    from xml.etree import ElementTree as ET  # nosec B405 - parsing our own answers

    from tests.participation.o311 import ADMIN

    tokens = setup_city(client)
    svc = {"service_code": "12", "service_name": "Numbered <b>", "attributes": [
        {"code": "7", "datatype": "string", "description": "A code that is no XML name"}]}
    assert client.post("/open311/v2/services.json", json=svc, headers=ADMIN).status_code == 201
    r = report(client, tokens["citizen"], service_code="12", description="</request>]]>\x01 & <script>",
               **{"attribute[size]": None, "attribute[7]": "<x/>"})
    assert r.status_code == 200, r.text
    rid = r.json()[0]["service_request_id"]
    x = ET.fromstring(client.get(f"/open311/v2/requests/{rid}.xml?extensions=true").content)  # nosec B314
    assert x.findtext("request/description") == "</request>]]>\ufffd & <script>"
    assert x.find("request/extended_attributes/attributes/item[@key='7']").text == "<x/>"  # type: ignore[union-attr]
    assert ET.fromstring(client.get("/open311/v2/services.xml").content).findtext(  # nosec B314
        "service/service_name") == "Numbered <b>"
