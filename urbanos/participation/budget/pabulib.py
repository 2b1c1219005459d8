"""Read and write the pabulib format (``.pb``, pabulib.org/format): three sections ``META``, ``PROJECTS`` and
``VOTES``, each a ``;``-separated table whose first row names the columns; approvals are a comma list of project ids
in the ``vote`` column. Only approval votes (``vote_type`` ``approval`` or ``choose-1``) are read; costs and the
budget may use a decimal comma. Project ids stay text (the tie-breaking order of pabutools is the ids' text order).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from urbanos.participation.budget.rules import Election, Number


class PabulibError(ValueError):
    """The text is not a pabulib file this reader understands."""


@dataclass(frozen=True)
class PabulibFile:
    meta: dict[str, str]
    projects: dict[str, dict[str, str]]
    votes: list[dict[str, str]]

    def election(self) -> Election:
        costs = {p: _number(row.get("cost", ""), f"cost of project {p}") for p, row in self.projects.items()}
        ballots = []
        for row in self.votes:
            chosen = [x.strip() for x in row.get("vote", "").split(",") if x.strip()]
            unknown = [x for x in chosen if x not in costs]
            if unknown:
                raise PabulibError(f"voter {row.get('voter_id', '?')} approves unknown project {unknown[0]!r}")
            ballots.append(frozenset(chosen))
        return Election(_number(self.meta.get("budget", ""), "budget"), costs, tuple(ballots))


def _number(text: str, what: str) -> Number:
    try:
        value = Fraction(text.strip().replace(",", "."))
    except (ValueError, ZeroDivisionError):
        raise PabulibError(f"the {what} is not a number: {text[:40]!r}") from None
    if value < 0:
        raise PabulibError(f"the {what} is negative")
    return value.numerator if value.denominator == 1 else value


def parse(text: str) -> PabulibFile:
    """Parse the text of a ``.pb`` file."""
    meta: dict[str, str] = {}
    projects: dict[str, dict[str, str]] = {}
    votes: list[dict[str, str]] = []
    section, header = "", [""]
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"):
        if not row or not "".join(row).strip():
            continue
        first = row[0].strip()
        if first.upper() in ("META", "PROJECTS", "VOTES") and len(row) == 1:
            section, header = first.lower(), []
            continue
        if not section:
            raise PabulibError("a pabulib file starts with META")
        if not header:
            header = [h.strip() for h in row]
            continue
        values = dict(zip(header, (v.strip() for v in row), strict=False))
        if section == "meta":
            meta[row[0].strip()] = row[1].strip() if len(row) > 1 else ""
        elif section == "projects":
            projects[values.get("project_id", "")] = values
        else:
            votes.append(values)
    if meta.get("vote_type", "approval") not in ("approval", "choose-1"):
        raise PabulibError(f"only approval votes are read, not {meta.get('vote_type')!r}")
    if "budget" not in meta or not projects:
        raise PabulibError("the META section needs a budget and PROJECTS at least one project")
    return PabulibFile(meta, projects, votes)


def dump(meta: dict[str, Any], projects: list[dict[str, Any]], votes: list[dict[str, Any]]) -> str:
    """Write a ``.pb`` text (META key/value rows; PROJECTS and VOTES with the keys of their first row as columns)."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(["META"])
    w.writerow(["key", "value"])
    for k, v in meta.items():
        w.writerow([k, v])
    for name, rows in (("PROJECTS", projects), ("VOTES", votes)):
        w.writerow([name])
        cols = list(rows[0]) if rows else (["project_id", "cost"] if name == "PROJECTS" else ["voter_id", "vote"])
        w.writerow(cols)
        for r in rows:
            w.writerow([r.get(c, "") for c in cols])
    return out.getvalue()


__all__ = ["parse", "dump", "PabulibFile", "PabulibError"]
