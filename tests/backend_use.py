"""Which tests use the database back end under test: the others run in the SQLite run only.

The suite runs twice in CI, once on SQLite and once on PostgreSQL/PostGIS (``URBANOS_TEST_DB``). A test learns
the back end in one of few ways, all in ``tests/conftest.py``: the ``db_url`` fixture (and every fixture built on
it: ``make_settings``, ``settings``, ``app``, ``client``, ``platform``, ``live_server``, ``serve``, ...),
``fresh_db_url``, or the constants ``PG_URL``, ``BACKEND`` and ``SCHEMAS``; a helper could also read
``URBANOS_TEST_DB`` itself. A test none of whose fixtures, code, helpers or module-level code reaches any of
those does the same on both back ends (a parser, a policy, a CLI's arguments, a server on a SQLite file of its
own): running it again on PostgreSQL tests nothing more.

:func:`uses_backend` decides for one collected test, and is conservative: it follows the test function, every
fixture of its closure, and every function and class of the suite (``tests.*``) they refer to by a global name,
an attribute or a local import, through any depth; any of :data:`SOURCES` among the names or string constants
met, a dynamic fixture lookup (``getfixturevalue``), one of the names at the top level of the test's module (a
``skipif`` on the back end, a parametrisation by it) or a ``postgres`` marker keeps the test on both back ends.
"""

from __future__ import annotations

import inspect
import sys
from functools import cache
from pathlib import Path
from types import CodeType
from typing import Any

import pytest

SOURCES = frozenset({
    "db_url", "fresh_db_url", "PG_URL", "BACKEND", "SCHEMAS", "SchemaPool", "schema_url", "migrate_url",
    "_sqlite_template", "URBANOS_TEST_DB", "getfixturevalue",
})
"""Names (of fixtures, helpers, constants, or in string constants) through which a test can reach the back end
under test."""

REASON = ("uses no database back end (no db_url fixture, no helper or constant that reads URBANOS_TEST_DB): "
          "runs once, in the SQLite run")
"""The skip reason in the PostgreSQL run; the terminal summary counts the tests skipped with it."""


def _codes(code: CodeType) -> list[CodeType]:
    """``code`` and every code object nested in it (inner functions, lambdas, comprehensions, class bodies)."""
    out, stack = [], [code]
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(k for k in c.co_consts if isinstance(k, CodeType))
    return out


def _words(code: CodeType) -> set[str]:
    """The names a code object and its nested ones refer to, and the words of their string constants."""
    found: set[str] = set()
    for c in _codes(code):
        found.update(c.co_names)
        found.update(c.co_varnames)  # a fixture named as a parameter of an inner function
        for k in c.co_consts:
            if isinstance(k, str) and len(k) < 2000:
                found.update(k.replace(",", " ").replace("(", " ").replace(")", " ").replace('"', " ").split())
    return found


def _callables_of(obj: Any) -> list[Any]:
    """The functions of ``obj``: itself, or a class's methods (static, class, properties) and nested classes."""
    if isinstance(obj, type):
        out: list[Any] = []
        for value in vars(obj).values():
            if isinstance(value, (staticmethod, classmethod)):
                out.append(value.__func__)
            elif isinstance(value, property):
                out.extend(f for f in (value.fget, value.fset, value.fdel) if f is not None)
            elif isinstance(value, type) or callable(value):
                out.append(value)
        return out
    return [obj]


def _suite_object(value: Any) -> bool:
    module = getattr(value, "__module__", None) or ""
    return module == "tests" or module.startswith("tests.") or module == "conftest" or module.endswith(".conftest")


@cache
def _reach(obj: Any) -> frozenset[str]:
    """Every name and string word met from ``obj`` (a function or class of the suite), following the suite's own
    functions and classes it refers to."""
    seen: set[int] = set()
    words: set[str] = set()
    stack = [obj]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for fn in _callables_of(current):
            if isinstance(fn, type):
                stack.append(fn)
                continue
            fn = inspect.unwrap(fn)
            code = getattr(fn, "__code__", None)
            if code is None:
                if not isinstance(fn, type) and _suite_object(type(fn)):
                    stack.append(type(fn))  # an instance of a suite class, called
                continue
            found = _words(code)
            words |= found
            namespaces = [getattr(fn, "__globals__", {})]
            namespaces += [vars(m) for name in found if name.startswith("tests.") and (m := sys.modules.get(name))]
            for name in found:
                for namespace in namespaces:
                    target = namespace.get(name)
                    if target is None:
                        continue
                    if not (callable(target) or isinstance(target, type)):
                        target = type(target)  # a module-level instance of a suite class
                    if _suite_object(target):
                        stack.append(target)
    return frozenset(words)


@cache
def _module_top_level(path: str) -> frozenset[str]:
    """The names of a test module's own top-level code and class bodies (not its functions'): a ``skipif`` or a
    parametrisation that reads the back end."""
    try:
        code = compile(Path(path).read_text(encoding="utf-8"), path, "exec")
    except (OSError, SyntaxError, ValueError):
        return frozenset(SOURCES)  # unknown: keep the tests
    found: set[str] = set()
    stack = [code]
    while stack:
        c = stack.pop()
        found.update(c.co_names)
        for k in c.co_consts:
            if isinstance(k, str) and "URBANOS_TEST_DB" in k:  # not every string: parameter names of the functions
                found.add("URBANOS_TEST_DB")
            elif isinstance(k, CodeType) and not c.co_flags & inspect.CO_OPTIMIZED and not k.co_flags & inspect.CO_OPTIMIZED:
                stack.append(k)  # a class body, not a function
    return frozenset(found)


def uses_backend(item: pytest.Item) -> bool:
    """Whether the test ``item`` can reach the database back end under test (see the module's docstring)."""
    if item.get_closest_marker("postgres") or item.get_closest_marker("empty_db"):
        return True
    fn = getattr(item, "function", None)
    if fn is None:
        return True  # not a Python test function: keep it
    if SOURCES & set(getattr(item, "fixturenames", ())):
        return True
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return True
    roots = [fn] + [d.func for defs in info.name2fixturedefs.values() for d in defs]
    cls = getattr(item, "cls", None)
    if cls is not None:
        roots.append(cls)
    if any(SOURCES & _reach(root) for root in roots):
        return True
    return bool(SOURCES & _module_top_level(str(item.path)))
