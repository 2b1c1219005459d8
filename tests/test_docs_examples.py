"""The examples of the documentation run: every curl and Python snippet of docs/*.md (not docs/reference, not
docs/performance), in the page's order, on a fresh database of the back end under test.

Snippets are the fenced ``bash``/``sh`` blocks with a ``curl`` line and the ``python`` blocks. curl lines are
read argument by argument (-X, -H, -d/--data, --data-binary @file, --data-urlencode with -G, -F, -o/-O/-J, -D,
the URL) and sent to the in-process app, or to a real ``urbanos serve`` when a Python snippet of the page needs a
port; the other lines of a shell block are the page's setup (``TOKEN=…``, ``urbanos demo``, ``urbanos serve &``,
``urbanos token create``, ``open URL``) or a pipe into ``jq``/``grep``, which is checked. Every request must
succeed (status below 400). Python snippets run in one namespace per page, with the page's URL pointing at the
live server; ``>>>`` blocks are checked like doctests.

A snippet that cannot run as written (it needs a city's server, a file only the reader has, or runs forever)
is preceded in the Markdown by ``<!-- not run: reason -->``; every other snippet must run.
"""

from __future__ import annotations

import contextlib
import doctest
import itertools
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson
import pytest

from tests.conftest import ADMIN_TOKEN, BACKEND, ROOT, TEST_DATA, settings_for, start_server

# The pages are run as a reader runs them: on the embedded default (SQLite). The back-end contract is the rest of the
# suite's; running the pages again on PostgreSQL tested the same text twice.
pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="the documentation runs on the embedded default")

DOCS = ROOT / "docs"
PAGES = sorted(p.name for p in DOCS.glob("*.md"))  # the top level only: not reference/, not performance/
DOC_HOSTS = ("localhost:8000", "127.0.0.1:8000")
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>.*?)\s*-->")


@dataclass
class Snippet:
    page: str
    line: int  # of the opening fence
    lang: str
    text: str
    not_run: str | None  # the reason given in the Markdown, or None


def snippets(page: str) -> list[Snippet]:
    """The curl and Python snippets of a page, in order."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    found: list[Snippet] = []
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w+)\s*$", lines[i])
        if not m:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        lang, body = m.group(1), "\n".join(lines[i + 1:end]) + "\n"
        if lang == "python" or (lang in ("bash", "sh") and any(x.lstrip().startswith("curl ") for x in body.splitlines())):
            before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marked = NOT_RUN.fullmatch(before.strip())
            found.append(Snippet(page, i + 1, lang, body, marked.group("reason") if marked else None))
        i = end + 1
    return found


# ---- what each page assumes: the demo, imported files, settings, and data made over the API

def _counts_csv(dest: Path) -> None:
    """counts.csv: the first 500 hourly counts of the Melbourne pedestrian counters (the real data of the suite)."""
    src = TEST_DATA / "melbourne" / "pedestrian_hourly_counts_2016-01_2017-04.csv"
    with open(src, encoding="utf-8") as fin, open(dest, "w", encoding="utf-8") as fout:
        fout.writelines(itertools.islice(fin, 501))


def _action(http: Any, action: str, body: dict[str, Any]) -> dict[str, Any]:
    r = http.post(f"/api/3/action/{action}", json=body, headers={"Authorization": ADMIN_TOKEN})
    assert r.status_code == 200, r.text
    return r.json()["result"]  # type: ignore[no-any-return]


def _dcat_catalogue(http: Any) -> None:
    """The confidential witness register, and enough open datasets for a second page of 100."""
    _action(http, "organization_create", {"name": "police", "title": "Police"})
    _action(http, "package_create", {"name": "witness-register", "title": "Witness register", "owner_org": "police",
                                     "access_level": "confidential", "grounds": ["inspire-13-1-b", "gdpr-personal-data"],
                                     "legal_basis": "Transparency Act section 3"})
    for i in range(101):
        _action(http, "package_create", {"name": f"open-{i:03d}", "title": f"Open data {i}", "owner_org": "police",
                                         "license_id": "CC-BY-4.0"})


def _tree_inspections(http: Any) -> None:
    """An internal dataset whose GeoJSON upload became the collection tree-inspections."""
    _action(http, "organization_create", {"name": "parks", "title": "Parks"})
    _action(http, "package_create", {"name": "tree-inspections", "title": "Tree inspections", "owner_org": "parks",
                                     "access_level": "internal", "grounds": ["not-yet-processed"]})
    trees = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"tree": i, "state": "good"}, "geometry": {"type": "Point", "coordinates": [10 + i / 100, 53.5]}}
        for i in range(5)]}
    r = http.post("/api/3/action/resource_create", headers={"Authorization": ADMIN_TOKEN},
                  data={"package_id": "tree-inspections", "name": "tree-inspections", "format": "GeoJSON"},
                  files={"upload": ("tree-inspections.geojson", orjson.dumps(trees), "application/geo+json")})
    assert r.status_code == 200, r.text
    _wait(lambda: http.get("/ogcapi/collections/tree-inspections", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
          .status_code == 200)


@dataclass
class Page:
    demo: bool = False  # `urbanos demo` has loaded the demo city
    imports: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (file, collection, options)
    files: dict[str, Callable[[Path], None]] = field(default_factory=dict)  # files in the reader's folder
    settings: dict[str, Any] = field(default_factory=dict)
    api: Callable[[Any], None] | None = None  # data made over the API before the first snippet
    in_repository: bool = False  # the snippets run in the repository's root folder (they name its files)
    tokens: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # placeholder -> (role, org)


def _copy(src: Path) -> Callable[[Path], None]:
    return lambda dest: shutil.copyfile(src, dest)


SENSORS = TEST_DATA / "melbourne" / "pedestrian_sensor_locations.csv"
STADTTEILE = TEST_DATA / "hamburg" / "hamburg_stadtteile.geojson"

PAGES_SETUP: dict[str, Page] = {
    "catalog.md": Page(files={"counts.csv": _counts_csv}),
    "dcat.md": Page(api=_dcat_catalogue, in_repository=True),
    "downloads.md": Page(imports=[(str(STADTTEILE), "stadtteile", {}), (str(SENSORS), "sensors", {}),
                                  (str(SENSORS), "internal-table", {"access_level": "internal"})]),
    "import.md": Page(imports=[(str(SENSORS), "sensors", {"title": "Pedestrian sensors", "org": "melbourne"})],
                      files={"pedestrian_sensor_locations.csv": _copy(SENSORS), "hamburg_stadtteile.geojson": _copy(STADTTEILE)},
                      settings={"datastore_sql_enabled": True},
                      api=lambda http: _action(http, "organization_create", {"name": "lgv", "title": "LGV"}),
                      tokens={"<publisher token>": ("publisher", "lgv")}),
    "ogcapi.md": Page(demo=True),
    "planning.md": Page(imports=[(str(STADTTEILE), "hamburg-stadtteile", {})]),
    "portal.md": Page(api=_tree_inspections),
    "sensorthings.md": Page(demo=True),
}


def _wait(ready: Callable[[], bool], seconds: float = 60.0) -> None:
    """Wait for work the server does in the background (an upload's import)."""
    import time

    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, "the server's background work did not finish"
        time.sleep(0.1)


# ---- the shell: words, variables and the curl command line

def shell_commands(block: str, env: dict[str, str]) -> Iterator[list[str]]:
    """The commands of a shell block as sh reads them: words split at blanks, quotes (a quoted word may span
    lines), backslashes, line continuations, ``$VAR``/``${VAR}`` (not in single quotes, read from ``env`` when the
    command is reached, so an earlier line can set it), ``$(…)`` kept as written, ``#`` comments; ``|``, ``&`` and
    ``;`` are words of their own. A command ends at a newline outside quotes."""
    text, i, n = block, 0, len(block)
    words: list[str] = []
    word: list[str] | None = None

    def expand(at: int) -> tuple[str, int]:
        if text.startswith("$(", at):
            depth, j = 0, at + 1
            while True:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    return text[at:j + 1], j + 1
                j += 1
        m = re.match(r"\$(?:\{(\w+)\}|(\w+))", text[at:])
        if not m:
            return "$", at + 1
        name = m.group(1) or m.group(2)
        assert name in env, f"the snippet uses ${name}, which nothing before it sets"
        return env[name], at + m.end()

    while i < n:
        ch = text[i]
        if ch in " \t\n":
            if word is not None:
                words.append("".join(word))
                word = None
            if ch == "\n" and words:
                yield words
                words = []
            i += 1
            continue
        if ch == "#" and word is None:
            i = text.find("\n", i) if "\n" in text[i:] else n
            continue
        if ch == "\\" and text[i + 1] == "\n":  # a continuation line
            i += 2
            continue
        word = word if word is not None else []
        if ch == "'":
            end = text.index("'", i + 1)
            word.append(text[i + 1:end])
            i = end + 1
        elif ch == '"':
            i += 1
            while text[i] != '"':
                if text[i] == "\\" and text[i + 1] in '$`"\\\n':
                    word.append("" if text[i + 1] == "\n" else text[i + 1])
                    i += 2
                elif text[i] == "$":
                    value, i = expand(i)
                    word.append(value)
                else:
                    word.append(text[i])
                    i += 1
            i += 1
        elif ch == "\\":
            word.append(text[i + 1])
            i += 2
        elif ch == "$":
            value, i = expand(i)
            word.append(value)
        elif ch in "|&;":
            if word:
                words.append("".join(word))
            word = None
            words.append(ch)
            i += 1
        else:
            word.append(ch)
            i += 1
    if word is not None:
        words.append("".join(word))
    if words:
        yield words


@dataclass
class Curl:
    method: str | None = None
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    data: list[str] = field(default_factory=list)
    urlencoded: list[str] = field(default_factory=list)
    forms: list[tuple[str, str]] = field(default_factory=list)
    get: bool = False
    output: str | None = None
    remote_name: bool = False
    header_dump: str | None = None
    globoff: bool = False


def parse_curl(words: list[str], cwd: Path) -> Curl:
    c = Curl()
    args = iter(words[1:])
    for a in args:
        if a in ("-s", "-S", "-sS", "--silent", "-L", "-i", "-f", "--fail", "-J", "--remote-header-name"):
            continue
        if a in ("-g", "--globoff"):
            c.globoff = True
            continue
        if a in ("-X", "--request"):
            c.method = next(args)
        elif a in ("-H", "--header"):
            name, _, value = next(args).partition(":")
            c.headers[name.strip()] = value.strip()
        elif a in ("-d", "--data", "--data-raw", "--data-binary", "--data-ascii"):
            value = next(args)
            if value.startswith("@") and a != "--data-raw":
                raw = (cwd / value[1:]).read_bytes()
                value = raw.decode() if a == "--data-binary" else raw.decode().replace("\r", "").replace("\n", "")
            c.data.append(value)
        elif a == "--data-urlencode":
            value = next(args)
            name, eq, content = value.partition("=")
            c.urlencoded.append(f"{name}={quote(content, safe='')}" if eq else quote(value, safe=""))
        elif a in ("-F", "--form"):
            name, _, value = next(args).partition("=")
            c.forms.append((name, value))
        elif a in ("-G", "--get"):
            c.get = True
        elif a in ("-o", "--output"):
            c.output = next(args)
        elif a in ("-O", "--remote-name"):
            c.remote_name = True
        elif a in ("-OJ", "-JO"):
            c.remote_name = True
        elif a in ("-D", "--dump-header"):
            c.header_dump = next(args)
        elif a.startswith("-"):
            raise AssertionError(f"curl option {a} is not translated: add it to tests/test_docs_examples.py")
        else:
            assert not c.url, f"two URLs: {c.url} and {a}"
            c.url = a
    return c


def run_curl(c: Curl, http: Any, cwd: Path) -> tuple[httpx.Response, str]:
    """Send the request; answer the response and what curl would print."""
    assert c.globoff or not re.search(r"(?<!\\)[\[\]{}]", c.url), f"curl globs [] and {{}} in {c.url}: pass -g"
    url = c.url if re.match(r"^[a-z]+://", c.url) else "http://" + c.url
    parts = urlsplit(url)
    assert parts.netloc in DOC_HOSTS, f"{c.url}: the examples speak to {' or '.join(DOC_HOSTS)}"
    query = [parts.query] if parts.query else []
    kwargs: dict[str, Any] = {"headers": dict(c.headers)}
    if c.get:
        query += c.data + c.urlencoded
    elif c.forms:
        data, files = {}, {}
        for name, value in c.forms:
            if value.startswith("@"):
                path = cwd / value[1:]
                files[name] = (path.name, path.read_bytes())
            else:
                data[name] = value
        kwargs.update(data=data, files=files)
    elif c.data or c.urlencoded:
        kwargs["content"] = "&".join(c.data + c.urlencoded).encode()
        kwargs["headers"].setdefault("Content-Type", "application/x-www-form-urlencoded")
    method = c.method or ("POST" if (c.forms or c.data or c.urlencoded) and not c.get else "GET")
    target = parts.path + ("?" + "&".join(query) if query else "")
    r = http.request(method, target, **kwargs)
    head = "".join(f"{k}: {v}\n" for k, v in r.headers.items())
    shown = head if c.header_dump == "-" else ""
    if c.output == "/dev/null":
        pass
    elif c.output or c.remote_name:
        name = c.output
        if name is None:
            m = re.search(r'filename="?([^";]+)"?', r.headers.get("content-disposition", ""))
            name = m.group(1) if m else parts.path.rsplit("/", 1)[-1]
        (cwd / name).write_bytes(r.content)
    else:
        shown += r.text
    return r, shown


def check_pipe(command: list[str], output: str) -> None:
    """What a pipe into jq or grep would show: jq needs JSON, grep -i its pattern."""
    if command[0] == "jq":
        orjson.loads(output)
    elif command[0] == "grep":
        pattern = command[-1]
        flags = re.IGNORECASE if "-i" in command else 0
        assert re.search(pattern, output, flags), f"grep {pattern}: not in {output[:500]}"
    else:
        raise AssertionError(f"a pipe into {command[0]} is not translated")


# ---- one page

@dataclass
class Run:
    page: str
    setup: Page
    http: Any
    url: str  # where Python snippets find the server
    cwd: Path
    env: dict[str, str]
    namespace: dict[str, Any] = field(default_factory=dict)
    ran: list[int] = field(default_factory=list)

    def token(self, role: str, org: str | None) -> str:
        r = self.http.post("/admin/tokens", json={"role": role, "org": org, "name": f"{self.page} {role}"},
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    def shell(self, s: Snippet) -> None:
        for words in shell_commands(s.text, self.env):
            line = " ".join(words)
            where = f"{s.page}:{s.line}: {line}"
            pipeline = [list(g) for k, g in itertools.groupby(words, lambda w: w == "|") if not k]
            first = pipeline[0]
            if first[-1] == "&":
                first = first[:-1]
            assignment = re.fullmatch(r"(\w+)=(.*)", first[-1], re.S) if first[0] == "export" or len(first) == 1 else None
            if assignment:
                name, value = assignment.groups()
                # a placeholder (TOKEN=…, a generated secret) stands for the token of the page's setup
                self.env[name] = ADMIN_TOKEN if value in ("...", "…") or value.startswith("$(") else value
                if name.isidentifier():
                    self.namespace[name] = self.env[name]
                continue
            if first[0] == "curl":
                r, shown = run_curl(parse_curl(first, self.cwd), self.http, self.cwd)
                assert r.status_code < 400, f"{where}\n{r.status_code} {r.text[:2000]}"
                for command in pipeline[1:]:
                    check_pipe(command, shown)
            elif first[:2] == ["urbanos", "demo"]:
                assert self.setup.demo, f"{where}: the page's setup (PAGES_SETUP) loads no demo"
            elif first[:2] == ["urbanos", "serve"]:
                pass  # the page's server is already running
            elif first[:3] == ["urbanos", "token", "create"]:
                opts = dict(zip(first[3::2], first[4::2], strict=False))
                print(self.token(opts.get("--role", "reader"), opts.get("--org")))
            elif first[0] == "open":
                r = self.http.get(urlsplit(first[1]).path + "?" + urlsplit(first[1]).query)
                assert r.status_code == 200 and "text/html" in r.headers["content-type"], where
            else:
                raise AssertionError(f"{where}: not translated; mark the block <!-- not run: reason --> if it cannot run")

    def python(self, s: Snippet) -> None:
        text = s.text
        for host in DOC_HOSTS:
            text = text.replace(f"http://{host}", self.url)
        for placeholder, (role, org) in self.setup.tokens.items():
            text = text.replace(placeholder, self.token(role, org))
        if text.lstrip().startswith(">>>"):
            self.doctest(s, text)
            return
        exec(compile(text, f"{DOCS / s.page}:{s.line}", "exec"), self.namespace)  # noqa: S102 - the documentation's own code

    def doctest(self, s: Snippet, text: str) -> None:
        """A REPL session: each expression's repr (``...`` matches anything), or ``module.Error: message``."""
        checker = doctest.OutputChecker()
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            assert lines[i].startswith(">>> "), f"{s.page}:{s.line}: {lines[i]}"
            source = lines[i][4:]
            i += 1
            expected = []
            while i < len(lines) and not lines[i].startswith(">>> "):
                expected.append(lines[i])
                i += 1
            want = "\n".join(expected).strip()
            try:
                value = eval(compile(source, f"{DOCS / s.page}:{s.line}", "eval"), self.namespace)  # noqa: S307
                got = "" if value is None else repr(value)
            except SyntaxError:
                exec(compile(source, f"{DOCS / s.page}:{s.line}", "exec"), self.namespace)  # noqa: S102
                got = ""
            except Exception as e:  # noqa: BLE001 - the session shows the error
                got = f"{type(e).__module__}.{type(e).__qualname__}: {e}"
            assert checker.check_output(want + "\n", got + "\n", doctest.ELLIPSIS), f"{source}\nwanted {want}\ngot    {got}"


def _prepare(setup: Page, folder: Path, db: str) -> None:
    """The demo and the imports, on the page's database, before its server starts."""
    if not (setup.demo or setup.imports):
        return
    from urbanos.features.importers.run import import_file
    from urbanos.platform import Platform
    from urbanos.plugins import load_components

    comps = load_components()
    platform = Platform.build(settings_for(folder, db), comps)
    platform.open()
    try:
        if setup.demo:
            for comp in comps:
                comp.demo(platform)
        for path, name, options in setup.imports:
            import_file(platform, path, name, options, progress=False)
    finally:
        platform.close()


@contextlib.contextmanager
def _server(setup: Page, folder: Path, db: str, live: bool) -> Iterator[tuple[Any, str]]:
    """The page's server: a real ``urbanos serve`` when a snippet needs a port, else the app in process."""
    if live:
        env = {f"URBANOS_{k.upper()}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in setup.settings.items()}
        server = start_server(folder / "data", db, env=env)
        try:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                yield http, server.url
        finally:
            server.stop()
        return
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    app = create_app(settings_for(folder, db, **setup.settings))
    try:
        with TestClient(app, raise_server_exceptions=False) as http:
            yield http, "http://testserver"
    finally:
        app.state.platform.close()


def _needs_port(runnable: list[Snippet]) -> bool:
    return any(s.lang == "python" and any(f"http://{h}" in s.text for h in DOC_HOSTS) for s in runnable)


@pytest.mark.parametrize("page", [p for p in PAGES if any(s.not_run is None for s in snippets(p))])
def test_page_examples_run(page: str, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    found = snippets(page)
    runnable = [s for s in found if s.not_run is None]
    setup = PAGES_SETUP.get(page, Page())
    reader = tmp_path / "reader"  # the reader's working folder, with the files the page names
    reader.mkdir()
    for name, make in setup.files.items():
        make(reader / name)
    _prepare(setup, tmp_path, db_url)
    live = _needs_port(runnable)
    with _server(setup, tmp_path, db_url, live) as (http, url):
        if setup.api:
            setup.api(http)
        # the reader's token: the admin token, as the pages allow (``URBANOS_ADMIN_TOKEN`` works from the first start)
        run = Run(page, setup, http, url, reader, env={"URBANOS_ADMIN_TOKEN": ADMIN_TOKEN, "TOKEN": ADMIN_TOKEN},
                  namespace={"TOKEN": ADMIN_TOKEN})
        monkeypatch.chdir(ROOT if setup.in_repository else reader)
        for s in runnable:
            run.shell(s) if s.lang in ("bash", "sh") else run.python(s)
            run.ran.append(s.line)
    assert run.ran == [s.line for s in runnable], "every snippet not marked <!-- not run: … --> runs"


def test_every_page_with_snippets_is_run_or_marked() -> None:
    """Each marked snippet gives its reason; each page's setup names a page that exists."""
    for page in PAGES:
        for s in snippets(page):
            assert s.not_run is None or s.not_run.strip(), f"{page}:{s.line}: <!-- not run: --> without a reason"
    assert set(PAGES_SETUP) <= set(PAGES)


def test_shell_words() -> None:
    env = {"TOKEN": "t0k"}
    assert list(shell_commands("""curl -H "Authorization: Bearer $TOKEN" 'a$b' \\$x "\\$filter=1" # note\n""", env)) == [
        ["curl", "-H", "Authorization: Bearer t0k", "a$b", "$x", "$filter=1"]]
    assert list(shell_commands("curl -s x | jq '.links[]'\n\nT=$(python -c 'a()')\ncurl -d '{\n \"a\": 1}' \\\n -s", env)) == [
        ["curl", "-s", "x", "|", "jq", ".links[]"], ["T=$(python -c 'a()')"], ["curl", "-d", '{\n "a": 1}', "-s"]]
    c = parse_curl(next(shell_commands("curl -G 'http://127.0.0.1:8000/a' --data-urlencode '$top=5' --data-urlencode \"f=a b\"",
                                       env)), Path("."))
    assert c.get and c.urlencoded == ["$top=5", "f=a%20b"]
    with pytest.raises(AssertionError):
        run_curl(Curl(url='localhost:8000/x?facet.field=["tags"]'), None, Path("."))
