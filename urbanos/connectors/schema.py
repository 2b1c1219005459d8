"""The connectors' tables: connectors (with their lease and health), their runs, and the items they keep track of.

* ``connector_configs``: one row per connector: its type, URL, dataset, schedule, mapping, webhook secret, the identity that
  configured it, its lease (``lease_owner``, ``lease_until``), its health and when it runs next.
* ``connector_runs``: the run log: started, finished, status, counts, first errors, bytes fetched.
* ``connector_items``: what a connector wrote before, by the feed's own key (a station, a row): the local ids and a
  digest of the values, so that a rerun with the same feed writes nothing.
* ``connector_live``: the live link of a mirror that keeps one (:mod:`urbanos.connectors.live`): the process holding
  it and its status (connected, since, messages, last error), for every process's views.
"""

from __future__ import annotations

from urbanos.storage import Connection, Migration


def _v1(c: Connection) -> None:
    d = c.dialect
    c.execute(
        f"CREATE TABLE connector_configs (id {d.pk}, name TEXT NOT NULL UNIQUE, type TEXT NOT NULL, url TEXT NOT NULL,"
        " dataset_id INTEGER NOT NULL, every_seconds INTEGER, cron TEXT, mapping TEXT, secret TEXT,"
        " owner_kind TEXT NOT NULL, owner_subject TEXT NOT NULL, owner_token_id INTEGER, enabled INTEGER NOT NULL DEFAULT 1,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, next_run_at TEXT, last_run_at TEXT, last_status TEXT,"
        " failures INTEGER NOT NULL DEFAULT 0, healthy INTEGER NOT NULL DEFAULT 1, state TEXT,"
        " lease_owner TEXT, lease_until TEXT)"
    )
    c.execute(
        f"CREATE TABLE connector_runs (id {d.pk}, connector_id INTEGER NOT NULL, started_at TEXT NOT NULL,"
        " finished_at TEXT, status TEXT NOT NULL, trigger TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1,"
        " created INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0, unchanged INTEGER NOT NULL DEFAULT 0,"
        f" failed INTEGER NOT NULL DEFAULT 0, bytes_fetched {d.bigint} NOT NULL DEFAULT 0, errors TEXT)"
    )
    c.execute("CREATE INDEX connector_runs_by_connector ON connector_runs (connector_id, id)")
    c.execute(
        "CREATE TABLE connector_items (connector_id INTEGER NOT NULL, key TEXT NOT NULL, ids TEXT NOT NULL,"
        " digest TEXT NOT NULL, PRIMARY KEY (connector_id, key))"
    )


def _v2(c: Connection) -> None:
    c.execute("CREATE TABLE connector_live (connector_id INTEGER PRIMARY KEY, owner TEXT NOT NULL, status TEXT NOT NULL,"
              " updated_at TEXT NOT NULL)")


MIGRATIONS = [Migration("connectors", 1, "connectors, runs and items", _v1),
              Migration("connectors", 2, "live links of mirrors", _v2)]

__all__ = ["MIGRATIONS"]
