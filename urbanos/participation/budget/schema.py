"""Migrations of participatory budgets (versions 100 to 149 of the participation component).

* ``participation_budget_budgets``: a budget (amount in whole currency units, its phase, voting rule, how many
  projects a ballot names, the organisation that owns it), the key of the voters' HMAC while the vote is open
  (dropped when it closes) and the published result of the last tally;
* ``participation_budget_projects``: a project of a budget, its cost and whether the feasibility review kept it;
* ``participation_budget_codes``: the one-time codes printed on letters, only as SHA-256 hashes, and whether used;
* ``participation_budget_voters``: who voted, only as an HMAC of the voter's credential (no name, no time);
* ``participation_budget_ballots``: the ballots under a random id, with an HMAC that lets the voter replace her
  ballot while the vote is open (set to NULL when it closes) and no time.

Version 101 adds residents' ideas:

* ``participation_budget_budgets`` gains ``author_key`` (the secret key of the ideas' author HMACs, never
  published), ``area`` (an optional GeoJSON polygon an idea's location must lie in) and ``districts`` (an optional
  JSON list of district names an idea may name);
* ``participation_budget_ideas``: an idea (title, description, estimated cost, optional point and district), its
  author only as ``HMAC(author_key, subject)``, its status (proposed, accepted, merged, rejected), the steward's
  reason and the project it became or joined;
* ``participation_budget_projects`` gains ``idea_id`` (the idea it came from) and ``review_reason`` (why the
  feasibility review kept or dropped it).
"""

from __future__ import annotations

import secrets

from urbanos.storage import Connection, Migration


def _v100(c: Connection) -> None:
    d = c.dialect
    c.execute(
        f"CREATE TABLE participation_budget_budgets (id {d.pk}, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL,"
        " description TEXT NOT NULL DEFAULT '', owner_org TEXT NOT NULL, amount BIGINT NOT NULL,"
        " currency TEXT NOT NULL DEFAULT 'EUR', phase TEXT NOT NULL DEFAULT 'ideas', rule TEXT NOT NULL,"
        " min_choices INTEGER NOT NULL DEFAULT 1, max_choices INTEGER, voter_key TEXT, results TEXT,"
        " tallied_at TEXT, created_at TEXT NOT NULL, modified_at TEXT NOT NULL)")
    c.execute(
        f"CREATE TABLE participation_budget_projects (id {d.pk}, budget_id {d.bigint} NOT NULL,"
        " title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', cost BIGINT NOT NULL,"
        " feasible INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL)")
    c.execute("CREATE INDEX participation_budget_projects_budget ON participation_budget_projects (budget_id, id)")
    c.execute(
        f"CREATE TABLE participation_budget_codes (id {d.pk}, budget_id {d.bigint} NOT NULL,"
        " code_hash TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0)")
    c.execute("CREATE UNIQUE INDEX participation_budget_codes_hash ON participation_budget_codes (budget_id, code_hash)")
    c.execute(
        f"CREATE TABLE participation_budget_voters (id {d.pk}, budget_id {d.bigint} NOT NULL,"
        " voter_mac TEXT NOT NULL, voted INTEGER NOT NULL DEFAULT 0)")
    c.execute("CREATE UNIQUE INDEX participation_budget_voters_mac ON participation_budget_voters (budget_id, voter_mac)")
    c.execute(
        f"CREATE TABLE participation_budget_ballots (ballot_id TEXT PRIMARY KEY, budget_id {d.bigint} NOT NULL,"
        " change_mac TEXT, choices TEXT NOT NULL)")
    c.execute("CREATE INDEX participation_budget_ballots_budget ON participation_budget_ballots (budget_id)")
    c.execute("CREATE UNIQUE INDEX participation_budget_ballots_mac ON participation_budget_ballots (change_mac)")


def _v101(c: Connection) -> None:
    d = c.dialect
    for col in ("author_key TEXT", "area TEXT", "districts TEXT"):
        c.execute(f"ALTER TABLE participation_budget_budgets ADD COLUMN {col}")
    for (bid,) in c.fetchall("SELECT id FROM participation_budget_budgets"):
        c.execute("UPDATE participation_budget_budgets SET author_key = ? WHERE id = ?", (secrets.token_hex(32), bid))
    c.execute(f"ALTER TABLE participation_budget_projects ADD COLUMN idea_id {d.bigint}")
    c.execute("ALTER TABLE participation_budget_projects ADD COLUMN review_reason TEXT")
    c.execute(
        f"CREATE TABLE participation_budget_ideas (id {d.pk}, budget_id {d.bigint} NOT NULL, title TEXT NOT NULL,"
        " description TEXT NOT NULL, cost BIGINT NOT NULL, geometry TEXT, district TEXT, author_mac TEXT NOT NULL,"
        f" status TEXT NOT NULL DEFAULT 'proposed', reason TEXT, project_id {d.bigint}, created_at TEXT NOT NULL,"
        " modified_at TEXT NOT NULL)")
    c.execute("CREATE INDEX participation_budget_ideas_budget ON participation_budget_ideas (budget_id, id)")


MIGRATIONS: list[Migration] = [Migration("participation", 100, "participatory budgets", _v100),
                               Migration("participation", 101, "residents' ideas for participatory budgets", _v101)]
