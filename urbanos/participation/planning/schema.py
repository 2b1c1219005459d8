"""Migrations of planning projects (versions 200 to 249 of the participation component).

* ``participation_planning_projects``: a project (its area as GeoJSON, period, categories, whether a location is
  required, the boundary collection of its heat map, the organisation that owns it, whether it is closed) and the
  secret key that turns a caller's subject into the project's pseudonym key (never published);
* ``participation_planning_authors``: per project, ``HMAC(key, subject)`` and the number of its label
  ("Contributor 7"): the label is stable inside a project and unrelated across projects;
* ``participation_planning_contributions``: title, text, category, geometry (GeoJSON) and its bounding box, the
  author's label number, and the moderation (hidden, reason);
* ``participation_planning_comments``: threaded comments (``parent_id``) of a contribution, moderated alike;
* ``participation_planning_ratings``: +1/-1 per contribution and pseudonym key (a second rating replaces it).

Version 201 adds the rubrics (sub-categories): a project's ``rubrics`` (JSON: category -> list of rubric names), a
contribution's ``rubric`` (NULL: none) and ``edited_at`` (the time its author last changed it, NULL: never).
"""

from __future__ import annotations

from urbanos.storage import Connection, Migration


def _v200(c: Connection) -> None:
    d = c.dialect
    c.execute(
        f"CREATE TABLE participation_planning_projects (id {d.pk}, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL,"
        " description TEXT NOT NULL DEFAULT '', owner_org TEXT NOT NULL, area TEXT NOT NULL,"
        " starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, categories TEXT NOT NULL,"
        " location_required INTEGER NOT NULL DEFAULT 1, boundaries TEXT NOT NULL DEFAULT '',"
        " closed INTEGER NOT NULL DEFAULT 0, author_key TEXT NOT NULL, created_at TEXT NOT NULL,"
        " modified_at TEXT NOT NULL)")
    c.execute(
        f"CREATE TABLE participation_planning_authors (id {d.pk}, project_id {d.bigint} NOT NULL,"
        " author_mac TEXT NOT NULL, label INTEGER NOT NULL)")
    c.execute("CREATE UNIQUE INDEX participation_planning_authors_mac ON participation_planning_authors"
              " (project_id, author_mac)")
    c.execute(
        f"CREATE TABLE participation_planning_contributions (id {d.pk}, project_id {d.bigint} NOT NULL,"
        " title TEXT NOT NULL, body TEXT NOT NULL, category TEXT NOT NULL, geometry TEXT,"
        " minx DOUBLE PRECISION, miny DOUBLE PRECISION, maxx DOUBLE PRECISION, maxy DOUBLE PRECISION,"
        " author INTEGER NOT NULL, hidden INTEGER NOT NULL DEFAULT 0, hidden_reason TEXT,"
        " created_at TEXT NOT NULL)")
    c.execute("CREATE INDEX participation_planning_contributions_project ON participation_planning_contributions"
              " (project_id, hidden, id)")
    c.execute(
        f"CREATE TABLE participation_planning_comments (id {d.pk}, contribution_id {d.bigint} NOT NULL,"
        f" parent_id {d.bigint}, body TEXT NOT NULL, author INTEGER NOT NULL, hidden INTEGER NOT NULL DEFAULT 0,"
        " hidden_reason TEXT, created_at TEXT NOT NULL)")
    c.execute("CREATE INDEX participation_planning_comments_contribution ON participation_planning_comments"
              " (contribution_id, id)")
    c.execute(
        f"CREATE TABLE participation_planning_ratings (id {d.pk}, contribution_id {d.bigint} NOT NULL,"
        " author_mac TEXT NOT NULL, value INTEGER NOT NULL)")
    c.execute("CREATE UNIQUE INDEX participation_planning_ratings_one ON participation_planning_ratings"
              " (contribution_id, author_mac)")


def _v201(c: Connection) -> None:
    c.execute("ALTER TABLE participation_planning_projects ADD COLUMN rubrics TEXT NOT NULL DEFAULT '{}'")
    c.execute("ALTER TABLE participation_planning_contributions ADD COLUMN rubric TEXT")
    c.execute("ALTER TABLE participation_planning_contributions ADD COLUMN edited_at TEXT")


MIGRATIONS: list[Migration] = [Migration("participation", 200, "planning projects", _v200),
                               Migration("participation", 201, "planning rubrics and edits", _v201)]
