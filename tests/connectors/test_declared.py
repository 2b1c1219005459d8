"""Connectors declared in a TOML file (``connectors_file``): created or updated when the server starts; a file that
is wrong stops the start with an error naming the file and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import settings_for
from tests.connectors.conftest import SETTINGS
from tests.connectors.helpers import ADMIN, dataset
from urbanos.errors import ConfigError

GOOD = """
[connector.bikes]
type = "gbfs"
url = "https://example.org/gbfs/gbfs.json"
dataset = "declared-ds"
every = "{every}"

[connector.bikes.mapping]
language = "de"

[connector.mirror]
type = "sta"
url = "https://example.org/sta/v1.1"
dataset = "declared-ds"
enabled = false
mapping = {{ things = "id lt 10" }}
"""


def start(folder: Path, db: str, toml: str) -> Any:
    from urbanos.web.app import create_app

    path = folder / "connectors.toml"
    path.write_text(toml, encoding="utf-8")
    return create_app(settings_for(folder, db, connectors_file=str(path), **SETTINGS))


def test_declared_connectors_are_created_then_updated(tmp_path: Path, db_url: str) -> None:
    app = start(tmp_path, db_url, "")
    with TestClient(app):
        dataset(app.state.platform, "declared-ds")
    app.state.platform.close()
    for every, seconds in (("5m", 300), ("1h", 3600)):
        app = start(tmp_path, db_url, GOOD.format(every=every))
        with TestClient(app) as client:
            bikes = client.get("/connectors/bikes", headers=ADMIN).json()
            mirror = client.get("/connectors/mirror", headers=ADMIN).json()
        app.state.platform.close()
        assert bikes["schedule"]["every_seconds"] == seconds and bikes["mapping"] == {"language": "de"}, bikes
        assert mirror["enabled"] is False and mirror["mapping"]["things"] == "id lt 10"


@pytest.mark.parametrize(("toml", "names"), [
    ("[connector.x]\ntype = \"gbfs\"\ndataset = \"declared-ds\"\nevry = \"5m\"\n", "[connector.x].evry"),
    ("[connector.x]\ntype = \"gbfs\"\nurl = \"https://example.org/g.json\"\n", "[connector.x].dataset is missing"),
    ("[connector.x]\ntype = \"gbfs\"\nurl = \"https://example.org/g.json\"\ndataset = \"declared-ds\"\n"
     "every = \"often\"\n", "[connector.x].every"),
    ("[connector.x]\ntype = \"nope\"\nurl = \"https://example.org/g.json\"\ndataset = \"declared-ds\"\n",
     "[connector.x].type"),
    ("[connector.x]\ntype = \"gbfs\"\nurl = \"https://example.org/g.json\"\ndataset = \"no-such\"\n", "[connector.x]"),
    ("[connectors]\nx = 1\n", "unknown key 'connectors'"),
    ("[connector.x\n", "not valid TOML"),
])
def test_a_wrong_file_stops_the_start_naming_the_key(tmp_path: Path, db_url: str, toml: str, names: str) -> None:
    app = start(tmp_path, db_url, toml)
    with pytest.raises(ConfigError) as err, TestClient(app):
        pass
    app.state.platform.close()
    assert "connectors.toml" in err.value.message and names in err.value.message, err.value.message
