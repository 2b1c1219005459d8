"""The privacy capability's tables: the audit trail (``privacy_audit_log`` and its head row), the algorithm register
and the privacy rules (``privacy_rules``, ``privacy_rule_versions``).

The audit log's ``details`` is TEXT on both back ends (not JSONB): the hash covers the exact canonical text, and JSONB
would rewrite it."""

from __future__ import annotations

from urbanos.storage import Connection, Migration

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""


def _v1_audit(c: Connection) -> None:
    big = c.dialect.bigint
    c.execute(f"CREATE TABLE privacy_audit_head (id INTEGER PRIMARY KEY, seq {big} NOT NULL, hash TEXT NOT NULL)")
    c.execute("INSERT INTO privacy_audit_head (id, seq, hash) VALUES (1, 0, ?)", (GENESIS,))
    c.execute(
        f"CREATE TABLE privacy_audit_log (seq {big} PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,"
        " action TEXT NOT NULL, object_kind TEXT NOT NULL, object_id TEXT NOT NULL, dataset TEXT, org TEXT,"
        f" path TEXT, row_count {big}, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)"
    )
    c.execute("CREATE INDEX privacy_audit_dataset ON privacy_audit_log (dataset, seq)")
    c.execute("CREATE INDEX privacy_audit_org ON privacy_audit_log (org, seq)")
    c.execute("CREATE INDEX privacy_audit_at ON privacy_audit_log (at)")


def _v2_algorithms(c: Connection) -> None:
    pk = c.dialect.pk
    c.execute(
        f"CREATE TABLE privacy_algorithms (id {pk}, uuid TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
        " owner_org TEXT NOT NULL, record TEXT NOT NULL, version INTEGER NOT NULL, created_at TEXT NOT NULL,"
        " created_by TEXT NOT NULL, modified_at TEXT NOT NULL, modified_by TEXT NOT NULL)"
    )
    c.execute("CREATE INDEX privacy_algorithms_org ON privacy_algorithms (owner_org)")
    c.execute(
        "CREATE TABLE privacy_algorithm_datasets (algorithm_id BIGINT NOT NULL REFERENCES privacy_algorithms(id)"
        " ON DELETE CASCADE, dataset TEXT NOT NULL, PRIMARY KEY (algorithm_id, dataset))"
    )
    c.execute("CREATE INDEX privacy_algorithm_datasets_name ON privacy_algorithm_datasets (dataset)")
    c.execute(
        "CREATE TABLE privacy_algorithm_versions (algorithm_id BIGINT NOT NULL, version INTEGER NOT NULL,"
        " at TEXT NOT NULL, actor TEXT NOT NULL, change TEXT NOT NULL, changed TEXT NOT NULL, record TEXT NOT NULL,"
        " PRIMARY KEY (algorithm_id, version))"
    )


def _v10_rules(c: Connection) -> None:
    pk, big = c.dialect.pk, c.dialect.bigint
    c.execute(f"CREATE TABLE privacy_rules (dataset_id {big} PRIMARY KEY, dataset TEXT NOT NULL, version INTEGER NOT NULL,"
              " rules TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL)")
    c.execute(f"CREATE TABLE privacy_rule_versions (seq {pk}, dataset_id {big} NOT NULL, dataset TEXT NOT NULL,"
              " version INTEGER NOT NULL, rules TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL,"
              " UNIQUE (dataset_id, version))")


def _v11_dp_budget(c: Connection) -> None:
    big = c.dialect.bigint
    c.execute(f"CREATE TABLE privacy_dp_budget (dataset_id {big} NOT NULL, period TEXT NOT NULL,"
              " spent DOUBLE PRECISION NOT NULL, releases INTEGER NOT NULL, PRIMARY KEY (dataset_id, period))")


MIGRATIONS = [Migration("privacy", 1, "audit trail: hash-chained log and its head", _v1_audit),
              Migration("privacy", 2, "algorithm register, its dataset links and versions", _v2_algorithms),
              Migration("privacy", 10, "privacy rules per dataset and their versions", _v10_rules),
              Migration("privacy", 11, "differential privacy budgets spent per dataset and period", _v11_dp_budget)]

__all__ = ["MIGRATIONS", "GENESIS"]
