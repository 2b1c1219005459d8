"""Dashboards defined in YAML files (``<data_dir>/dashboards/*.yaml``): read each file, check it, and report what is
wrong with the file, the line and the reason; one bad file never stops the others from loading."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from urbanos.cockpit.dashboards.model import Dashboard, Problem, check

log = logging.getLogger("urbanos.cockpit.dashboards")
MAX_FILE_BYTES = 256 * 1024
MAX_FILES = 200


@dataclass(frozen=True)
class FileProblem:
    """A problem of a dashboard file: which file, which line (1-based; 0 when the whole file), and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.line else f"{self.file}: {self.reason}"


def _lines(node: yaml.Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]) -> None:
    """The line of every key and item under ``node``, by its path."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k.start_mark.line)
            out[(*path, key)] = k.start_mark.line + 1
            _lines(v, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out)


def line_of(lines: dict[tuple[str | int, ...], int], path: tuple[str | int, ...]) -> int:
    """The line of ``path``, or of its nearest parent the file has."""
    p = tuple(path)
    while p and p not in lines:
        p = p[:-1]
    return lines.get(p, 1)


def parse(text: str, name: str) -> tuple[Any, dict[tuple[str | int, ...], int], list[FileProblem]]:
    """The YAML document of ``text``, the lines of its keys, and a syntax problem if any."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        return None, {}, [FileProblem(name, line, f"not valid YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, {}, [FileProblem(name, 0, f"not valid YAML: {exc}")]
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    return data, lines, []


def load_text(text: str, name: str, slug: str) -> tuple[Dashboard | None, list[FileProblem], dict[tuple[str | int, ...], int]]:
    data, lines, problems = parse(text, name)
    if problems:
        return None, problems, lines
    dash, found = check(data, slug, origin="file", source=name)
    return dash, [as_file_problem(name, lines, p) for p in found], lines


def as_file_problem(name: str, lines: dict[tuple[str | int, ...], int], p: Problem) -> FileProblem:
    return FileProblem(name, line_of(lines, p.path), f"{p.where()}: {p.reason}")


@dataclass
class Loaded:
    dashboards: dict[str, Dashboard]
    problems: list[FileProblem]
    lines: dict[str, dict[tuple[str | int, ...], int]]


def load_folder(folder: Path) -> Loaded:
    """Every ``*.yaml`` / ``*.yml`` file of ``folder``: the dashboards that are well defined (the slug is the file
    name without its suffix) and the problems of the others, each logged."""
    out = Loaded({}, [], {})
    if not folder.is_dir():
        return out
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    for f in files[:MAX_FILES]:
        name = f.name
        try:
            if f.stat().st_size > MAX_FILE_BYTES:
                out.problems.append(FileProblem(name, 0, f"larger than {MAX_FILE_BYTES // 1024} KiB"))
                continue
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            out.problems.append(FileProblem(name, 0, f"cannot be read: {exc}"))
            continue
        slug = f.stem.lower()
        dash, problems, lines = load_text(text, name, slug)
        out.problems.extend(problems)
        if dash is not None:
            if slug in out.dashboards:
                out.problems.append(FileProblem(name, 0, f"another file already defines the dashboard {slug!r}"))
                continue
            out.dashboards[slug] = dash
            out.lines[slug] = lines
    if len(files) > MAX_FILES:
        out.problems.append(FileProblem(files[MAX_FILES].name, 0, f"more than {MAX_FILES} files: the rest is skipped"))
    for p in out.problems:
        log.warning("dashboard file %s", p)
    return out


__all__ = ["FileProblem", "Loaded", "load_folder", "load_text", "line_of", "as_file_problem", "parse"]
