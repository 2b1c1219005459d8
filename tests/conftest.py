"""Shared fixtures: one contract suite for both back ends.

The back end comes from ``URBANOS_TEST_DB``: unset means SQLite; a
``postgresql://`` URL runs every test on PostgreSQL/PostGIS, each test in a
schema of its own (a migrated one, emptied after an earlier test: tests/pg_schemas.py). A test that cannot reach
the back end (no ``db_url`` among its fixtures, no helper or constant that reads ``URBANOS_TEST_DB``) runs in the
SQLite run only (tests/backend_use.py; ``--every-test`` runs it on PostgreSQL too).

Fixtures used in more than one folder live here; helpers (constants, functions, classes) are imported by their
path from the repository root, ``from tests.conftest import ADMIN_TOKEN`` (docs/architecture.md, Tests).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import inspect
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from tests.backend_use import REASON as NO_BACKEND_REASON
from tests.backend_use import uses_backend
from tests.pg_schemas import SchemaPool, schema_url
from urbanos.plugins import settings_registry
from urbanos.settings import Settings, load

# Hypothesis's deadline per example is a timing assertion: on a loaded machine an example takes longer and a sound
# test fails (tests/core/test_time.py did, at 257 ms). Off for the whole suite; each test's own settings inherit it.
hypothesis_settings.register_profile("urbanos", deadline=None)
hypothesis_settings.load_profile("urbanos")

ADMIN_TOKEN = "test-admin-token-0123456789"
PG_URL = os.environ.get("URBANOS_TEST_DB", "")
BACKEND = "postgresql" if PG_URL.startswith("postgres") else "sqlite"
SQLITE_RUN_ONLY = pytest.mark.skipif(BACKEND != "sqlite", reason="no database involved: runs once, with the SQLite suite")
"""``pytestmark`` of a module whose tests use no database (parsers, rules, policies): it runs in the SQLite run only."""
PAGES_ON_SQLITE = pytest.mark.skipif(BACKEND != "sqlite", reason="every page's markup, scripts and policy in a browser: "
                                     "the templates do not depend on the back end, whose data paths are tested on both")
"""``pytestmark`` of a browser module that checks what every page is made of (WCAG, the Content-Security-Policy) on
the demo: it runs in the SQLite run only (on PostgreSQL it cost 100 s of the suite for the same pages)."""
ROOT = Path(__file__).resolve().parents[1]
_DATA_SOURCES = {
    "hamburg/hamburg_bezirke.geojson": ROOT / "urbanos" / "features" / "demo_data" / "hamburg_bezirke.geojson.gz",
    "hamburg/hamburg_stadtteile.geojson": ROOT / "urbanos" / "features" / "demo_data" / "hamburg_stadtteile.geojson.gz",
    "melbourne/pedestrian_sensor_locations.csv": ROOT / "urbanos" / "features" / "demo_data" / "pedestrian_sensor_locations.csv.gz",
    "melbourne/pedestrian_hourly_counts_2016-01_2017-04.csv":
        ROOT / "tests" / "data" / "pedestrian_hourly_counts_2016-01_2017-04.csv.gz",
}


def _test_data() -> Path:
    """The real open data the tests read (licences in tests/data/LICENSE.txt), decompressed once into a
    folder of the temporary directory named after the sources' sizes and times; xdist workers that race
    each write a file of their own and rename it into place."""
    key = hashlib.sha256(repr(sorted((n, p.stat().st_size, p.stat().st_mtime_ns) for n, p in _DATA_SOURCES.items()))
                         .encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"urbanos-test-data-{key}"
    for name, src in _DATA_SOURCES.items():
        dest = folder / name
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(f"{dest.name}.{os.getpid()}.part")
        with gzip.open(src, "rb") as fin, open(part, "wb") as fout:
            shutil.copyfileobj(fin, fout)
        os.replace(part, dest)
    return folder


TEST_DATA = _test_data()


_HANDED_OUT: set[int] = set()
"""Ports this process's free_port gave out: never given twice, so two ports asked for before either is bound differ."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1, from a block of its own for each xdist worker.

    The blocks lie below the kernel's ephemeral range, so neither another worker nor an outgoing
    connection takes the port between this check and the server binding it.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    base = 20000 + (index % 4) * 3000
    if len(_HANDED_OUT) > 2000:
        _HANDED_OUT.clear()
    for _ in range(200):
        port = base + random.randrange(3000)
        if port in _HANDED_OUT:  # handed out earlier and perhaps not bound yet (a server's HTTP and MQTT ports)
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            _HANDED_OUT.add(port)
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def migrate_url(url: str) -> None:
    """Apply the platform's migrations to the database ``url`` (as ``urbanos db upgrade`` does)."""
    from urbanos.platform import Platform
    from urbanos.plugins import load_components
    from urbanos.storage import upgrade

    with tempfile.TemporaryDirectory() as folder:
        platform = Platform.build(settings_for(Path(folder), url), load_components())
        platform.db.open()
        try:
            upgrade(platform.db, platform.migrations())
        finally:
            platform.db.close()


_SQLITE_TEMPLATE: list[Path] = []


def _sqlite_template() -> Path:
    """A SQLite database migrated once in this process, copied for each test (as fast as an empty one)."""
    if not _SQLITE_TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="urbanos-template-")) / "urbanos.db"
        migrate_url(f"sqlite:///{path}")
        _SQLITE_TEMPLATE.append(path)
    return _SQLITE_TEMPLATE[0]


SCHEMAS = SchemaPool(PG_URL, migrate_url)
"""This process's PostgreSQL schemas, migrated once and emptied for the next test (tests/pg_schemas.py)."""


@contextlib.contextmanager
def fresh_db_url(folder: Path, *, migrated: bool = True) -> Iterator[str]:
    """A migrated database of the back end under test that no other test uses: a copy of a migrated SQLite file
    in ``folder``, or a PostgreSQL schema (emptied after an earlier test, tests/pg_schemas.py);
    ``migrated=False`` asks for an empty one (a test of the migrations themselves)."""
    if BACKEND == "sqlite":
        path = folder / "urbanos.db"
        if migrated and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_sqlite_template(), path)
        yield f"sqlite:///{path}"
        return
    schema = SCHEMAS.take(migrated=migrated)
    try:
        yield schema_url(PG_URL, schema)
    finally:
        if migrated:
            SCHEMAS.give_back(schema)
        else:
            SCHEMAS.drop(schema)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the back end under test that no other test uses (:func:`fresh_db_url`); an empty one for
    a test marked ``empty_db``."""
    with fresh_db_url(tmp_path, migrated=request.node.get_closest_marker("empty_db") is None) as url:
        yield url


def settings_for(folder: Path, db: str, **overrides: Any) -> Settings:
    """Settings of a test app: data in ``folder``, database ``db``, the test admin token, quiet logs."""
    values: dict[str, Any] = {
        "data_dir": str(folder / "data"),
        "db": db,
        "admin_token": ADMIN_TOKEN,
        "log_level": "warning",
        "access_log": False,
        "pg_pool_min": 1,
        "pg_pool_max": 4,
        "allowed_hosts": "127.0.0.1,localhost,[::1],testserver",  # testserver: the in-process TestClient's Host
    }
    if "mqtt_port" in settings_registry():
        values["mqtt_port"] = 0
    values.update(overrides)
    return load(settings_registry(), env={}, overrides=values)


@pytest.fixture
def make_settings(tmp_path: Path, db_url: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        return settings_for(tmp_path, overrides.pop("db", db_url), **overrides)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    from urbanos.web.app import create_app

    application = create_app(settings)
    yield application
    application.state.platform.close()


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    """An in-process client over the ASGI app (lifespan included)."""
    from starlette.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def api_token(server: Any, name: str, role: str = "reader", org: str | None = None) -> str:
    """A new API token (``POST /admin/tokens`` with the admin token) of a live server given by its URL, or of
    an in-process app given by its test client."""
    body, headers = {"role": role, "org": org, "name": name}, {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    r = (httpx.post(f"{server}/admin/tokens", json=body, headers=headers, timeout=30) if isinstance(server, str)
         else server.post("/admin/tokens", json=body, headers=headers))
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def platform(app: Any) -> Any:
    return app.state.platform


class LiveServer:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, port: int, log: Path, extra: dict[str, Any]) -> None:
        self.proc = proc
        self.url = url
        self.port = port
        self.log = log
        self.extra = extra

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_server(
    data_dir: Path, db: str, *, args: list[str] | None = None, env: dict[str, str] | None = None, command: str = "serve",
    timeout: float = 60.0,
) -> LiveServer:
    """Start a real ``urbanos serve`` process on a free port and wait for /healthz (on another port when a process
    outside this test session took the one chosen meanwhile)."""
    for _attempt in range(3):
        try:
            return _start_server(data_dir, db, args=args, env=env, command=command, timeout=timeout)
        except PortTaken:
            continue
    return _start_server(data_dir, db, args=args, env=env, command=command, timeout=timeout)


class PortTaken(RuntimeError):
    """The port chosen for a server was bound by another process before the server bound it."""


def _start_server(data_dir: Path, db: str, *, args: list[str] | None, env: dict[str, str] | None, command: str,
                  timeout: float) -> LiveServer:
    port = free_port()
    log = data_dir.parent / f"server-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    full_env.update({"URBANOS_ADMIN_TOKEN": ADMIN_TOKEN, "URBANOS_LOG_LEVEL": "warning", "URBANOS_ACCESS_LOG": "false",
                     "URBANOS_PG_POOL_MIN": "1", "URBANOS_PG_POOL_MAX": "4"})
    full_env.update(env or {})
    cmd = [sys.executable, "-m", "urbanos.cli.main", command, "--port", str(port), "--data-dir", str(data_dir)]
    if db:
        cmd += ["--db", db]
    if command == "serve" and "--mqtt-port" not in (args or []) and "mqtt_port" in settings_registry():
        cmd += ["--mqtt-port", "0"]
    cmd += args or []
    fh = open(log, "wb")  # noqa: SIM115 - kept open for the process lifetime
    proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=full_env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = log.read_text(errors="replace")
            if f"('127.0.0.1', {port}): address already in use" in text or f"port {port} on 127.0.0.1 is already" in text:
                raise PortTaken(text[-3000:])
            raise RuntimeError(f"server exited early:\n{text[-3000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return LiveServer(proc, url, port, log, {})
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"server did not start in {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def live_server(tmp_path: Path, db_url: str) -> Iterator[LiveServer]:
    server = start_server(tmp_path / "live", db_url)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start real servers (``server_factory(db_url, args=[...])``); all are stopped after the test."""
    started: list[LiveServer] = []

    def make(db: str, *, args: list[str] | None = None, env: dict[str, str] | None = None, command: str = "serve") -> LiveServer:
        server = start_server(tmp_path / f"srv{len(started)}", db, args=args, env=env, command=command)
        started.append(server)
        return server

    yield make
    for s in started:
        s.stop()


# Fixtures of more than one folder; their helper modules import this one, so they are imported when used.

@pytest.fixture
def sta(client: Any, admin_headers: dict[str, str]) -> Any:
    """SensorThings requests through the in-process client with the admin token (tests/sensing/sta_helpers.py)."""
    from tests.sensing.sta_helpers import Sta

    return Sta(client, admin_headers)


@pytest.fixture
def places(platform: Any) -> Any:
    """The point collection ``places`` (tests/features/places.py)."""
    from tests.features.places import add_points

    return add_points(platform)


@pytest.fixture
def fx() -> Any:
    """``add_dataset``, ``add_points`` and ``add_polygon`` of tests/features/places.py."""
    from tests.features.places import Helpers

    return Helpers


@pytest.fixture
def serve(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Any]]:
    """Serve the real app with uvicorn in a thread, the embedded broker on a free port (tests/sensing_mqtt/served.py)."""
    from tests.sensing_mqtt.served import serve as serving

    yield from serving(make_settings)


# ---- markers: declared in pyproject.toml, given here by what a test uses, so that -m selects on them

_LIVE_NAMES = frozenset({"live_server", "server_factory", "start_server"})


def _names_used(obj: Any, seen: set[int]) -> set[str]:
    """The global names a function (or the methods of a class) of the test suite refers to, followed through the
    suite's own functions and classes it calls: how a test is found to start a server through a helper."""
    if id(obj) in seen:
        return set()
    seen.add(id(obj))
    if isinstance(obj, type):
        return set().union(*(_names_used(v, seen) for v in vars(obj).values() if callable(v)), set())
    obj = inspect.unwrap(obj)  # a context manager or other decorated helper: the function written in the suite
    code = getattr(obj, "__code__", None)
    if code is None:
        return set()
    names: set[str] = set()
    stack = [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    found = set(names)
    namespace = getattr(obj, "__globals__", {})
    for name in names:
        target = namespace.get(name)
        if (callable(target) and getattr(target, "__module__", "").startswith("tests.")
                and name not in _LIVE_NAMES):
            found |= _names_used(target, seen)
    return found


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``live``: the test (or a fixture or helper of the suite it uses) starts a real ``urbanos`` server process
    (``live_server``, ``server_factory``, ``start_server``); ``browser``: it drives Chromium (the ``chromium``
    fixture of tests/browser); ``postgres`` tests are skipped on SQLite."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        uses = set(fixtures)
        seen: set[int] = set()
        fn = getattr(item, "function", None)
        if fn is not None:
            uses |= _names_used(fn, seen)
        info = getattr(item, "_fixtureinfo", None)
        for fixturedefs in (info.name2fixturedefs.values() if info is not None else ()):
            for fixturedef in fixturedefs:
                uses |= _names_used(fixturedef.func, seen)
        if uses & _LIVE_NAMES:
            item.add_marker(pytest.mark.live)
        if "chromium" in fixtures:
            item.add_marker(pytest.mark.browser)
        if BACKEND != "postgresql" and item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (URBANOS_TEST_DB)"))
        elif BACKEND == "postgresql" and not config.getoption("every_test") and not uses_backend(item):
            item.add_marker(pytest.mark.skip(reason=NO_BACKEND_REASON))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--every-test", action="store_true", dest="every_test",
                     help="on PostgreSQL, run the tests that use no database back end too (tests/backend_use.py)")


# ---- the summary: how long the suite took on this back end, and the write matrix's size

_SESSION_START = time.monotonic()


def pytest_sessionstart(session: pytest.Session) -> None:
    global _SESSION_START
    _SESSION_START = time.monotonic()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the PostgreSQL schemas this process kept for reuse, and its migrated SQLite file."""
    SCHEMAS.close()
    for path in _SQLITE_TEMPLATE:
        shutil.rmtree(path.parent, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how long the suite took on the back end under test and what it counted, and how large the write matrix
    was (tests/governance/test_write_matrix.py), when it ran."""
    stats = terminalreporter.stats
    if not hasattr(terminalreporter.config, "workerinput"):
        counted = {key: [r for r in stats.get(key, []) if getattr(r, "count_towards_summary", True)]
                   for key in ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "deselected")}
        counts = ", ".join(f"{len(reports)} {key}" for key, reports in counted.items() if reports)
        terminalreporter.write_line(f"suite on {BACKEND}: {counts or 'nothing run'} in {time.monotonic() - _SESSION_START:.1f} s")
        once = sum(1 for r in counted["skipped"] if NO_BACKEND_REASON in str(r.longrepr))
        if once:
            terminalreporter.write_line(f"left to the SQLite run: {once} tests that use no database back end "
                                        "(tests/backend_use.py; --every-test runs them here too)")
    ran = [r for key in ("passed", "failed") for r in stats.get(key, []) if "test_write_matrix" in getattr(r, "nodeid", "")]
    if not ran:
        return
    import importlib

    paths = cases = 0
    for file in sorted((Path(__file__).parent / "governance").glob("test_write_matrix*.py")):
        n, callers, levels, m = importlib.import_module(f"tests.governance.{file.stem}").matrix_size()
        paths, cases = paths + n, cases + m
    terminalreporter.write_line(f"write matrix on {BACKEND}: {paths} write paths x {callers} callers (x the access"
                                f" levels of a dataset's writes) = {cases} cases ({len(ran)} tests run)")
