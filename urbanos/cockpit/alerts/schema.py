"""Migrations of the cockpit's alerts (versions 1 to 49 of the cockpit component).

* ``alert_rules``: a rule on a SensorThings Datastream (its dataset and owning organisation as the sensing capability
  answered when the rule was written), its threshold, pending and staleness, its channels and webhook secret, and the
  engine's state (so that a restart goes on where it stopped);
* ``alert_episodes``: one row per episode (``threshold``: from firing to resolved; ``nodata``: from the first missed
  deadline to the next Observation);
* ``alert_deliveries``: one row per notification and channel (attempts, status, last error).

Times are stored as text in the platform's fixed-width UTC format, so that text order is time order.
"""

from __future__ import annotations

from urbanos.storage import Connection, Migration


def _v1(c: Connection) -> None:
    d = c.dialect
    c.execute(
        f"CREATE TABLE alert_rules (id {d.pk}, name TEXT NOT NULL, datastream_id {d.bigint} NOT NULL,"
        f" dataset_id {d.bigint}, owner_org TEXT, operator TEXT, fire_value DOUBLE PRECISION,"
        " clear_value DOUBLE PRECISION, pending_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,"
        " stale_seconds DOUBLE PRECISION, channels TEXT NOT NULL, secret TEXT NOT NULL,"
        " enabled INTEGER NOT NULL DEFAULT 1, state TEXT NOT NULL DEFAULT 'ok', pending_since TEXT,"
        f" nodata INTEGER NOT NULL DEFAULT 0, episode_id {d.bigint}, nodata_episode_id {d.bigint},"
        " last_seen TEXT, last_value DOUBLE PRECISION, created_by TEXT, created_at TEXT NOT NULL,"
        " modified_at TEXT NOT NULL)")
    c.execute("CREATE INDEX alert_rules_datastream ON alert_rules (datastream_id)")
    c.execute(
        f"CREATE TABLE alert_episodes (id {d.pk}, rule_id {d.bigint} NOT NULL, kind TEXT NOT NULL,"
        " state TEXT NOT NULL, started_at TEXT NOT NULL, resolved_at TEXT, start_value DOUBLE PRECISION,"
        " end_value DOUBLE PRECISION)")
    c.execute("CREATE INDEX alert_episodes_rule ON alert_episodes (rule_id, id)")
    c.execute("CREATE INDEX alert_episodes_started ON alert_episodes (started_at)")
    c.execute(
        f"CREATE TABLE alert_deliveries (id {d.pk}, episode_id {d.bigint} NOT NULL, event TEXT NOT NULL,"
        " channel TEXT NOT NULL, target TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,"
        " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, updated_at TEXT NOT NULL)")
    c.execute("CREATE INDEX alert_deliveries_episode ON alert_deliveries (episode_id, id)")


MIGRATIONS: list[Migration] = [Migration("cockpit", 1, "alert rules, episodes and deliveries", _v1)]
