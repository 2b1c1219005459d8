"""Open311's staff side: services managed by admins and stewards of their organisation, the workflow (a late update
never rolls back, identical updates are dropped), moderation kept in the audit trail, rate limits; photos made safe
at ingest; and the georeport client from PyPI reading the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import georeport.georeport as gr_module
import numpy as np
import pytest

from tests.conftest import api_token
from tests.participation.o311 import ADMIN, POTHOLE, report, setup_city
from urbanos.participation.open311 import media


@pytest.fixture
def city(client: Any) -> dict[str, str]:
    return setup_city(client)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_services_are_managed_by_stewards_of_their_organisation(client: Any, city: dict[str, str]) -> None:
    body = {**POTHOLE, "service_code": "sign", "service_name": "Damaged sign"}
    assert client.post("/open311/v2/services.json", json=body).status_code == 401
    r = client.post("/open311/v2/services.json", json=body, headers=_bearer(city["waste"]))
    assert r.status_code == 403 and r.json()[0]["code"] == 403  # a steward of another organisation
    r = client.post("/open311/v2/services.json", json=body, headers=_bearer(city["citizen"]))
    assert r.status_code == 403
    assert client.post("/open311/v2/services.json", json=body, headers=_bearer(city["roads"])).status_code == 201
    assert client.post("/open311/v2/services.json", json=body, headers=_bearer(city["roads"])).status_code == 409
    changed = {**body, "service_name": "Sign"}
    assert client.put("/open311/v2/services/sign.json", json=changed, headers=_bearer(city["waste"])).status_code == 403
    moved = {**body, "organization": "waste"}
    assert client.put("/open311/v2/services/sign.json", json=moved, headers=_bearer(city["roads"])).status_code == 403
    assert client.put("/open311/v2/services/sign.json", json=changed, headers=_bearer(city["roads"])).status_code == 200
    assert client.get("/open311/v2/services/sign.json").json()["service_code"] == "sign"
    bad = [{"service_code": "x y", "service_name": "n"}, {"service_code": "a", "service_name": 3},
           {"service_code": "a", "service_name": "n", "attributes": [{"code": "c", "datatype": "colour",
                                                                     "description": "d"}]},
           {"service_code": "a", "service_name": "n", "attributes": [{"code": "c", "datatype": "singlevaluelist",
                                                                     "description": "d"}]},
           {"service_code": "a", "service_name": "n", "organization": "nowhere"}, [1, 2]]
    for b in bad:
        r = client.post("/open311/v2/services.xml", json=b, headers=ADMIN)
        assert r.status_code == 400 and b"<errors><error><code>400</code>" in r.content, r.text
    assert client.post("/open311/v2/services.json", content=b"{", headers=ADMIN).status_code == 400
    assert client.delete("/open311/v2/services/sign.json", headers=_bearer(city["waste"])).status_code == 403
    assert client.delete("/open311/v2/services/sign.json", headers=_bearer(city["roads"])).status_code == 204
    report(client, city["citizen"])
    assert client.delete("/open311/v2/services/pothole.json", headers=ADMIN).status_code == 409
    assert [s["service_code"] for s in client.get("/open311/v2/services.json").json()] == ["bulky", "pothole"]


def _update(client: Any, rid: str, token: str, **form: str) -> Any:
    return client.post(f"/open311/v2/requests/{rid}/updates.json", data={"api_key": token, **form})


def test_the_workflow_keeps_the_newest_state(client: Any, city: dict[str, str]) -> None:
    rid = report(client, city["citizen"]).json()[0]["service_request_id"]
    assert _update(client, rid, city["waste"], status="closed").status_code == 403  # another organisation's steward
    assert _update(client, rid, city["waste_pub"], status="closed").status_code == 403
    assert _update(client, rid, city["citizen"], status="closed").status_code == 403
    assert _update(client, rid, "", status="closed").status_code == 401
    assert _update(client, rid, city["roads"], status="done").status_code == 400
    assert _update(client, "424242", city["roads"], status="closed").status_code == 404
    assert _update(client, rid, city["roads"], status="closed", updated_datetime="2999-01-01T00:00:00Z").status_code == 400
    now = datetime.now(UTC)
    t0, t1, t2 = ((now + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S+00:00") for s in (30, 60, 120))
    r = _update(client, rid, city["roads"], status="acknowledged", status_notes="Seen", updated_datetime=t1)
    assert r.status_code == 200 and r.json()[0]["update"] == "applied", r.text
    r = _update(client, rid, city["roads"], status="in_progress", agency_responsible="Roads crew 3", updated_datetime=t2)
    assert r.json()[0]["update"] == "applied" and r.json()[0]["status"] == "open"
    late = _update(client, rid, city["roads"], status="closed", status_notes="Old news", updated_datetime=t0)
    assert late.json()[0]["update"] == "late"
    again = _update(client, rid, city["roads"], status="in_progress", agency_responsible="Roads crew 3",
                    updated_datetime=t2)
    assert again.json()[0]["update"] == "unchanged"
    one = client.get(f"/open311/v2/requests/{rid}.json", params={"extensions": "true"}).json()[0]
    assert one["extended_attributes"]["detailed_status"] == "in_progress" and one["agency_responsible"] == "Roads crew 3"
    assert [n["detailed_status"] for n in one["extended_attributes"]["notes"]] == ["acknowledged", "in_progress", "closed"]
    assert [n["applied"] for n in one["extended_attributes"]["notes"]][1:] == [True, False]
    r = _update(client, rid, city["roads"], status="duplicate", status_notes="Same as 1",
                updated_datetime=(now + timedelta(seconds=180)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert r.json()[0]["status"] == "closed"
    assert client.get("/open311/v2/requests.xml", params={"status": "closed"}).text.count("<request>") == 1


def test_moderation_hides_and_is_audited(client: Any, city: dict[str, str], platform: Any) -> None:
    rid = report(client, city["citizen"], media_url="https://example.org/p.jpg").json()[0]["service_request_id"]
    url = f"/open311/v2/requests/{rid}/moderation.json"
    assert client.post(url, data={"api_key": city["waste"], "reason": "spam"}).status_code == 403
    assert client.post(url, data={"api_key": city["roads"]}).status_code == 400  # no reason
    r = client.post(url, data={"api_key": city["roads"], "photo": "true", "reason": "a face"})
    assert r.status_code == 200
    assert client.get(f"/open311/v2/requests/{rid}.json").json()[0]["media_url"] is None
    assert client.post(url, data={"api_key": city["roads"], "reason": "abusive"}).status_code == 200
    assert client.get(f"/open311/v2/requests/{rid}.json").status_code == 404
    assert client.get("/open311/v2/requests.json").json() == []
    from urbanos.ports import AuditPort

    platform.require(AuditPort).flush_sync()
    r = client.get("/audit", headers=ADMIN, params={"action": "open311.request.hidden"})
    assert r.status_code == 200 and "abusive" in r.text and "a face" in r.text, r.text


def test_rate_limits_per_token(make_settings: Any) -> None:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    with TestClient(create_app(make_settings(participation_posts_per_minute=2))) as c:
        tokens = setup_city(c)
        codes = [report(c, tokens["citizen"]).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = report(c, tokens["citizen"], fmt="xml")
        assert r.status_code == 429 and r.headers["retry-after"] and b"<code>429</code>" in r.content
        assert report(c, api_token(c, "another-app")).status_code == 200


def _jpeg_with_exif() -> bytes:
    import cv2

    img = np.full((240, 320, 3), 200, dtype=np.uint8)
    cv2.rectangle(img, (100, 60), (220, 180), (20, 40, 60), -1)
    ok, enc = cv2.imencode(".jpg", img)
    raw = enc.tobytes()
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00GPS-SECRET-53.55-9.99"
    app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    return raw[:2] + app1 + raw[2:]


def test_photos_lose_exif_and_detected_regions_are_blurred(client: Any, city: dict[str, str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    photo = _jpeg_with_exif()
    assert b"GPS-SECRET" in photo and cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR) is not None

    class Found:  # the cascade's answer on a face (the bundled cascades run on every other photo)
        def detectMultiScale(self, *a: Any, **k: Any) -> Any:  # noqa: N802 - OpenCV's name
            return np.array([[100, 60, 120, 120]])

    monkeypatch.setattr(media, "_cascade", lambda name: Found())
    r = client.post("/open311/v2/requests.json", files={"media": ("p.jpg", photo, "image/jpeg")},
                    data={"api_key": city["citizen"], "service_code": "pothole", "lat": "53.5", "long": "10",
                          "attribute[size]": "large"})
    assert r.status_code == 200, r.text
    one = client.get(f"/open311/v2/requests/{r.json()[0]['service_request_id']}.json").json()[0]
    stored = client.get(one["media_url"].split("testserver", 1)[-1])
    assert stored.status_code == 200 and stored.headers["content-type"] == "image/jpeg"
    assert b"GPS-SECRET" not in stored.content and b"Exif" not in stored.content
    out = cv2.imdecode(np.frombuffer(stored.content, np.uint8), cv2.IMREAD_COLOR)
    original = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    edge = (slice(55, 65), slice(95, 225))  # the rectangle's sharp top edge is smeared by the blur
    assert np.abs(out[edge].astype(int) - original[edge].astype(int)).mean() > 10


def test_photos_oversized_or_not_images_are_refused(client: Any, city: dict[str, str]) -> None:
    for content, status in ((b"GIF89a not allowed", 415), (b"\xff\xd8\xff broken jpeg", 415),
                            (b"\xff\xd8\xff" + b"0" * (9 * 1024 * 1024), 413)):
        r = client.post("/open311/v2/requests.json", files={"media": ("p.jpg", content, "image/jpeg")},
                        data={"api_key": city["citizen"], "service_code": "pothole", "lat": "53.5", "long": "10",
                              "attribute[size]": "large"})
        assert r.status_code == status, r.text
    assert client.get("/open311/v2/requests.json").json() == []
    real = media.make_safe(_jpeg_with_exif(), 10**6)  # the bundled cascades load and run
    assert real.width == 320 and real.faces == 0


def test_the_georeport_client_reads_the_api(client: Any, city: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    rid = report(client, city["citizen"]).json()[0]["service_request_id"]
    monkeypatch.setattr(gr_module, "requests", client)  # the client's HTTP calls go to the in-process app
    for fmt in ("json", "xml"):
        g = gr_module.GeoReport("http://testserver/open311/v2", output_format=fmt)
        codes = [s["service_code"] for s in g.get_service_list()]
        assert codes == ["bulky", "pothole"]
        assert g.get_service_definition("pothole")["service_code"] == "pothole"
        found = g.get_service_requests(service_code="pothole", status="open")
        found = found if isinstance(found, list) else [found]
        assert [r["service_request_id"] for r in found] == [rid]
        assert g.get_service_request(rid)["service_request_id"] == rid


def test_new_requests_are_announced_coarsely_without_contact_details(client: Any, city: dict[str, str],
                                                                    platform: Any) -> None:
    from urbanos.ports import MessagePort

    sent: list[tuple[str, bytes]] = []

    class Messages:
        async def publish(self, topic: str, payload: bytes, dataset_id: int | None = None) -> int:
            sent.append((topic, payload))
            return 1

    platform.ports[MessagePort] = Messages()
    report(client, city["citizen"], lat="53.551234", long="9.993765")
    [(topic, payload)] = sent
    assert topic == "open311/requests" and b'"lat":53.551' in payload and b"9.994" in payload
    assert b"planted" not in payload.lower() and b"1234567" not in payload
