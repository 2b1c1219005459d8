def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_landing(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "Demo City" in r.text
