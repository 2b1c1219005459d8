"""The tables of retention, consent, assessments and the transparency page (privacy migrations 20–23).

``privacy_stamp`` (one row) takes a new random value in every transaction that changes consent, the consent-based
datasets, person-related marks or assessments: each server process compares it a few times a second and reloads
what it keeps in memory (as :mod:`urbanos.governance.visibility` does for access)."""

from __future__ import annotations

from urbanos.storage import Connection, Migration


def _v20_retention(c: Connection) -> None:
    pk, big = c.dialect.pk, c.dialect.bigint
    c.execute(f"CREATE TABLE privacy_retention (id {pk}, dataset TEXT NOT NULL, org TEXT, scope TEXT NOT NULL,"
              " ref TEXT NOT NULL, days INTEGER NOT NULL, time_property TEXT, note TEXT NOT NULL DEFAULT '',"
              " changed_at TEXT NOT NULL, changed_by TEXT NOT NULL, UNIQUE (dataset, scope, ref))")
    c.execute(f"CREATE TABLE privacy_deletions (id {pk}, at TEXT NOT NULL, dataset TEXT NOT NULL, org TEXT,"
              " scope TEXT NOT NULL, ref TEXT NOT NULL, days INTEGER NOT NULL, before_time TEXT NOT NULL,"
              f" row_count {big} NOT NULL, what TEXT NOT NULL, actor TEXT NOT NULL)")
    c.execute("CREATE INDEX privacy_deletions_at ON privacy_deletions (at)")
    c.execute("CREATE TABLE privacy_stamp (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)")
    c.execute("INSERT INTO privacy_stamp (id, n) VALUES (1, 1)")
    c.execute("CREATE TABLE privacy_contacts (org TEXT PRIMARY KEY, contact TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',"
              " changed_at TEXT NOT NULL, changed_by TEXT NOT NULL)")


def _v21_consent(c: Connection) -> None:
    pk = c.dialect.pk
    c.execute("CREATE TABLE privacy_consent_datasets (dataset TEXT PRIMARY KEY, org TEXT, subject_field TEXT NOT NULL,"
              " purpose TEXT NOT NULL, recipient TEXT NOT NULL, changed_at TEXT NOT NULL, changed_by TEXT NOT NULL)")
    c.execute(f"CREATE TABLE privacy_consents (id {pk}, receipt_id TEXT NOT NULL UNIQUE, principal TEXT NOT NULL,"
              " purpose TEXT NOT NULL, recipient TEXT NOT NULL, state TEXT NOT NULL, granted_at TEXT NOT NULL,"
              " revoked_at TEXT, made_by TEXT NOT NULL, receipt TEXT NOT NULL)")
    c.execute("CREATE INDEX privacy_consents_principal ON privacy_consents (principal)")
    c.execute("CREATE INDEX privacy_consents_maker ON privacy_consents (made_by)")
    c.execute("CREATE INDEX privacy_consents_state ON privacy_consents (state, purpose, recipient)")


def _v22_dpia(c: Connection) -> None:
    pk = c.dialect.pk
    c.execute("CREATE TABLE privacy_person_related (kind TEXT NOT NULL, ref TEXT NOT NULL, label TEXT NOT NULL,"
              " org TEXT, marked_at TEXT NOT NULL, marked_by TEXT NOT NULL, PRIMARY KEY (kind, ref))")
    c.execute(f"CREATE TABLE privacy_dpias (id {pk}, kind TEXT NOT NULL, ref TEXT NOT NULL, label TEXT NOT NULL,"
              " org TEXT, state TEXT NOT NULL, sections TEXT NOT NULL, version INTEGER NOT NULL,"
              " created_at TEXT NOT NULL, created_by TEXT NOT NULL, modified_at TEXT NOT NULL, modified_by TEXT NOT NULL,"
              " decided_at TEXT, decided_by TEXT, decision_note TEXT)")
    c.execute("CREATE INDEX privacy_dpias_target ON privacy_dpias (kind, ref, state)")


MIGRATIONS = [Migration("privacy", 20, "retention rules, deletion records, the privacy stamp, contacts", _v20_retention),
              Migration("privacy", 21, "consent register and consent-based datasets", _v21_consent),
              Migration("privacy", 22, "person-related marks and impact assessments", _v22_dpia)]

__all__ = ["MIGRATIONS"]
