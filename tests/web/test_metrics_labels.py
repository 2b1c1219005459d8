"""/metrics labels are bounded: requests to random paths with random methods add at most a handful of series
(every path no route serves is ``other``, every unknown method is ``other``)."""

from __future__ import annotations

import random
import re
import string
from typing import Any

_SERIES = re.compile(r"^(urbanos_http_request[a-z_]*)\{([^}]*)\}", re.M)


def _series(client: Any) -> set[str]:
    text = client.get("/metrics").text
    return {f"{m.group(1)}{{{m.group(2)}}}" for m in _SERIES.finditer(text)}


def test_random_paths_and_methods_add_a_handful_of_series(client: Any) -> None:
    rnd = random.Random(20240601)
    client.get("/healthz")
    client.get("/sta/v1.1/Things")
    before = _series(client)
    alphabet = string.ascii_letters + string.digits + "-_.~"
    for i in range(1000):
        depth = rnd.randint(1, 4)
        path = "/" + "/".join("".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12))) for _ in range(depth))
        method = "".join(rnd.choice(string.ascii_uppercase) for _ in range(rnd.randint(3, 9))) if i % 2 else \
            rnd.choice(["GET", "POST", "DELETE", "PATCH"])
        client.request(method, path)
    # and random paths below the served prefixes
    for _ in range(200):
        client.get(f"/sta/{rnd.randint(0, 10**9)}/x")
        client.get(f"/ogcapi/{rnd.randint(0, 10**9)}")
    added = _series(client) - before
    families = {s.split("{", 1)[0] for s in added}
    per_family = max((sum(1 for s in added if s.startswith(f + "{")) for f in families), default=0)
    # request counters: (method, route, status); latency: (method, route) times the buckets
    counters = {s for s in added if s.startswith("urbanos_http_requests_total{")}
    assert len(counters) <= 12, sorted(counters)
    assert all('route="other"' in s or 'route="/sta/…"' in s or 'route="/ogcapi/…"' in s or 'route="/metrics"' in s
               for s in counters), sorted(counters)
    assert per_family <= 12 * 16, per_family


def test_known_routes_keep_their_templates(client: Any) -> None:
    client.get("/sta/v1.1/Things")
    client.request("BREW", "/healthz")
    text = client.get("/metrics").text
    assert 'route="/healthz"' in text
    assert 'method="other"' in text
    assert 'method="BREW"' not in text
