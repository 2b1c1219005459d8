"""Tests that keep the house clean (static checks over the source of ``urbanos/``; see docs/architecture.md):

(a) no module imports a ``_private`` name from another module, and no code reads a ``_private`` attribute of
    another module's object;
(b) no function-local ``from urbanos… import`` except the lazily loaded heavy parts listed in :data:`LAZY_IMPORTS`;
(c) no module over 500 lines and no function over 80, except those listed in :data:`SIZE_EXCEPTIONS`;
(d) no capability touches another capability's tables (the tables each one creates in its migrations); the
    governance tables (``datasets``, ``dataset_grants`` …) are shared.

Each failure message lists every offender, with file and line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "urbanos"
CAPABILITIES = ("catalog", "features", "sensing", "privacy", "cockpit", "connectors", "participation")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

# (b) Function-local imports of urbanos modules that load heavy parts lazily: importing module -> (what it may
# import inside functions, why). Anything else is imported at the top of the module.
_COMPONENT = ("a capability's component is imported for every command (settings, migrations, the CLI's list of "
              "commands); its hooks load the rest of the capability (services, routes, importers, demo data) only "
              "when the platform sets it up")
LAZY_IMPORTS: dict[str, tuple[tuple[str, ...], str]] = {
    "urbanos.catalog.component": (("urbanos.catalog",), _COMPONENT),
    "urbanos.features.component": (("urbanos.features",), _COMPONENT),
    "urbanos.sensing.component": (("urbanos.sensing",), _COMPONENT),
    "urbanos.privacy.component": (("urbanos.privacy",), _COMPONENT),
    "urbanos.cockpit.component": (("urbanos.cockpit",), _COMPONENT),
    "urbanos.connectors.component": (("urbanos.connectors",), _COMPONENT),
    "urbanos.participation.component": (("urbanos.participation",), _COMPONENT),
    "urbanos.catalog.cli": (("urbanos.catalog.writes",), "catalogue writes load numpy and shapely"),
    "urbanos.catalog.dcat": (("urbanos.catalog.dcat.routes",),
                             "the package is imported for its settings; its routes load rdflib"),
    "urbanos.catalog.portal": (("urbanos.catalog.portal.routes",),
                               "the package is imported for its settings; its routes load the web stack"),
    "urbanos.catalog.harvest": (("urbanos.catalog.harvest.runner", "urbanos.catalog.harvest.store",
                                 "urbanos.catalog.harvest.cli"),
                                "the package is imported for its settings; harvesting loads rdflib"),
    "urbanos.catalog.harvest.cli": (("urbanos.catalog.harvest.runner",), "harvesting loads rdflib"),
    "urbanos.cli.main": (("urbanos.web.app", "urbanos.platform", "urbanos.storage", "urbanos.governance.tokens"),
                         "the command line starts without the web stack, the platform and the database drivers "
                         "(about a second) for --help, settings and errors"),
    "urbanos.cli.backup": (("urbanos.cli.backup_io",), "backup and restore load the platform and the database "
                           "drivers only when they run, not for --help"),
    "urbanos.storage": (("urbanos.storage.postgres", "urbanos.storage.sqlite"),
                        "a back end's driver (psycopg) is loaded only for a database of its kind"),
    "urbanos.platform": (("urbanos.bus.remote",), "redis is loaded only when a remote bus is configured"),
}

# (c) Modules over MAX_MODULE_LINES and functions over MAX_FUNCTION_LINES that may stay so: "path" or
# "path:function" -> why. The same list is in docs/architecture.md.
SIZE_EXCEPTIONS: dict[str, str] = {}

# (a) Underscore names that are public API: namedtuple's methods, and the names of private implementation
# modules a package imports from itself (checked apart).
PUBLIC_UNDERSCORE = frozenset({"_asdict", "_replace", "_fields", "_make", "_field_defaults"})


# -- the source -----------------------------------------------------------------------------------------------------

def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=1)
def _sources() -> tuple[tuple[str, Path, str, ast.Module], ...]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        out.append((_module_name(path), path, text, ast.parse(text, str(path))))
    return tuple(out)


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, module: str, path: Path) -> str:
    if not node.level:
        return node.module or ""
    base = _package_of(module, path).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split("."))
    return (ROOT / rel).with_suffix(".py").exists() or (ROOT / rel / "__init__.py").exists()


# -- (a) private names ----------------------------------------------------------------------------------------------

def _own_private_names(tree: ast.Module) -> set[str]:
    """Underscore names the module defines itself: functions, classes, assignments, attributes set on any object,
    and names in ``__slots__``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets)
              and isinstance(node.value, ast.Tuple | ast.List)):
            names.update(e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return {n for n in names if _private(n)}


def _private_import_offences(module: str, path: Path, tree: ast.Module) -> Iterator[str]:
    package = _package_of(module, path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, path)
            hidden = _private_part(source, package)
            if hidden is not None:
                yield f"{_where(path, node)}: imports from {source}, a private module of {hidden}"
                continue
            for alias in node.names:
                if not _private(alias.name) or alias.name in PUBLIC_UNDERSCORE:
                    continue
                target = f"{source}.{alias.name}"
                if _is_module(target) and (package == source or package.startswith(source + ".")):
                    continue  # a package's private implementation module, imported within the package
                yield f"{_where(path, node)}: imports {alias.name} from {source}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                hidden = _private_part(alias.name, package)
                if hidden is not None:
                    yield f"{_where(path, node)}: imports {alias.name}, a private module of {hidden}"


def _private_part(dotted: str, package: str) -> str | None:
    """The package whose private module ``dotted`` is, when that package is not (a parent of) ``package``."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if _private(part):
            owner = ".".join(parts[:i])
            if not (package == owner or package.startswith(owner + ".")):
                return owner or part
    return None


def _private_attribute_offences(path: Path, tree: ast.Module) -> Iterator[str]:
    own = _own_private_names(tree)

    def foreign(obj: ast.expr, name: str) -> bool:
        if not _private(name) or name in PUBLIC_UNDERSCORE or name in own:
            return False
        if isinstance(obj, ast.Name) and obj.id in ("self", "cls"):
            return False
        return not (isinstance(obj, ast.Call) and isinstance(obj.func, ast.Name) and obj.func.id == "super")

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and foreign(node.value, node.attr):
            yield f"{_where(path, node)}: reads {ast.unparse(node)[:80]}"
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and foreign(node.args[0], node.args[1].value)):
            yield f"{_where(path, node)}: reads {ast.unparse(node)[:80]}"


def _by_package(offences: list[str]) -> str:
    groups: dict[str, list[str]] = {}
    for o in offences:
        parts = o.split("/")
        key = "/".join(parts[:2]) if len(parts) > 2 else parts[0].split(":")[0]
        groups.setdefault(key, []).append(o)
    return "\n".join(f"{k} ({len(v)}):\n  " + "\n  ".join(v) for k, v in sorted(groups.items()))


def test_no_private_names_of_other_modules() -> None:
    offences: list[str] = []
    for module, path, _, tree in _sources():
        offences.extend(_private_import_offences(module, path, tree))
        offences.extend(_private_attribute_offences(path, tree))
    assert not offences, (
        f"{len(offences)} uses of another module's private names; make the name public (and document it) or "
        f"ask the owning module for what is needed:\n{_by_package(offences)}")


# -- (b) function-local imports -------------------------------------------------------------------------------------

def _imported(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    source = _absolute(node, module, path)
    return [f"{source}.{a.name}" if _is_module(f"{source}.{a.name}") else source for a in node.names]


def test_no_function_local_imports_but_the_lazy_ones() -> None:
    offences: list[str] = []
    for module, path, _, tree in _sources():
        allowed = LAZY_IMPORTS.get(module, ((), ""))[0]
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                for name in _imported(node, module, path):
                    if not (name == "urbanos" or name.startswith("urbanos.")):
                        continue
                    if any(name == a or name.startswith(a + ".") for a in allowed):
                        continue
                    offences.append(f"{_where(path, node)}: imports {name} in {fn.name}()")
    offences = sorted(set(offences))
    assert not offences, (
        f"{len(offences)} function-local imports of urbanos modules; import at the top of the module, or, for a "
        f"heavy part that must load lazily, add it to LAZY_IMPORTS with the reason:\n{_by_package(offences)}")


# -- (c) sizes --------------------------------------------------------------------------------------------------------

def test_modules_and_functions_are_small() -> None:
    offences: list[str] = []
    for _, path, text, tree in _sources():
        rel = str(path.relative_to(ROOT))
        lines = text.count("\n")
        if lines > MAX_MODULE_LINES and rel not in SIZE_EXCEPTIONS:
            offences.append(f"{rel}: {lines} lines (limit {MAX_MODULE_LINES})")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES and f"{rel}:{node.name}" not in SIZE_EXCEPTIONS:
                    offences.append(f"{rel}:{node.lineno}: {node.name}() is {length} lines (limit {MAX_FUNCTION_LINES})")
    assert not offences, (
        f"{len(offences)} modules or functions over the limits; split them, or list them in SIZE_EXCEPTIONS (and "
        f"docs/architecture.md) with the reason:\n{_by_package(offences)}")


def test_size_exceptions_are_documented_and_still_needed() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for key in SIZE_EXCEPTIONS:
        assert f"`{key}`" in doc, f"{key} is in SIZE_EXCEPTIONS but not in docs/architecture.md"
        assert (ROOT / key.split(":")[0]).exists(), f"{key} is in SIZE_EXCEPTIONS but does not exist any more"


# -- (d) tables -------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def table_owners(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every table the migrations create (on SQLite, shadow tables included), by the component that creates it."""
    from urbanos.governance.migrations import MIGRATIONS as GOVERNANCE
    from urbanos.plugins import BUILTIN, load_components, settings_registry
    from urbanos.settings import load
    from urbanos.storage import open_database, upgrade

    folder = tmp_path_factory.mktemp("tables")
    settings = load(settings_registry(), env={}, overrides={"data_dir": str(folder), "db": f"sqlite:///{folder}/t.db"})
    migrations = list(GOVERNANCE) + [m for c in load_components(BUILTIN) for m in c.migrations()]
    db = open_database(settings)
    db.open()
    owners: dict[str, str] = {}
    try:
        for i, m in enumerate(migrations):
            upgrade(db, migrations[: i + 1])
            names = db.read_sync(lambda c: [r[0] for r in c.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")])
            for name in names:
                owners.setdefault(name.lower(), m.component)
    finally:
        db.close()
    owners.pop("urbanos_migrations", None)
    return owners


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _docstrings(tree: ast.Module) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _strings(tree: ast.Module) -> Iterator[ast.Constant]:
    """The string constants of the code (f-strings' text parts included), docstrings left out."""
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node


def _owner_of(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 and parts[0] in (*CAPABILITIES, "governance") else None


def test_no_capability_touches_another_capabilitys_tables(table_owners: dict[str, str]) -> None:
    capability_tables = {t: o for t, o in table_owners.items() if o in CAPABILITIES}
    assert capability_tables, "no capability created a table: the migrations were not found"
    offences: list[str] = []
    for _, path, _, tree in _sources():
        owner = _owner_of(path)
        for const in _strings(tree):
            for word in set(_WORD.findall(const.value)):
                table_owner = capability_tables.get(word.lower())
                if table_owner is not None and table_owner != owner:
                    offences.append(f"{_where(path, const)}: {word} (a table of {table_owner})")
    offences = sorted(set(offences))
    assert not offences, (
        f"{len(offences)} places name another capability's tables; ask that capability through its port "
        f"(urbanos/ports.py) or an event instead:\n{_by_package(offences)}")


# -- the checks themselves ------------------------------------------------------------------------------------------

_SAMPLE = '''
from urbanos.query.odata.parser import _parse_filter
from urbanos.features.importers import _tabular
from urbanos.features.importers._tabular import read
from starlette._utils import is_async_callable


def f(x, conn):
    y = x._secret
    getattr(conn, "_pool")
    self._mine = 1
    return row._asdict(), super()._hook()


class A:
    __slots__ = ("_own",)

    def same(self, other):
        from urbanos.web.app import create_app
        return other._own
'''


def test_the_checks_find_what_they_look_for() -> None:
    tree = ast.parse(_SAMPLE)
    elsewhere = PACKAGE / "sensing" / "sample.py"
    found = list(_private_import_offences("urbanos.sensing.sample", elsewhere, tree))
    assert [o.split(": ", 1)[1] for o in found] == [
        "imports _parse_filter from urbanos.query.odata.parser", "imports _tabular from urbanos.features.importers",
        "imports from urbanos.features.importers._tabular, a private module of urbanos.features.importers",
        "imports from starlette._utils, a private module of starlette"]
    inside = PACKAGE / "features" / "importers" / "sample.py"
    found = list(_private_import_offences("urbanos.features.importers.sample", inside, tree))
    assert len(found) == 2  # the package's own private module is its business
    reads = [o.split(": ", 1)[1] for o in _private_attribute_offences(elsewhere, tree)]
    assert reads == ["reads x._secret", "reads getattr(conn, '_pool')"]
    lazy = [n for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef)
            for n in ast.walk(fn) if isinstance(n, ast.ImportFrom)]
    assert _imported(lazy[0], "urbanos.sensing.sample", elsewhere) == ["urbanos.web.app"]
    assert _WORD.findall("SELECT id FROM sta_things t JOIN feature_collections") == [
        "SELECT", "id", "FROM", "sta_things", "t", "JOIN", "feature_collections"]
