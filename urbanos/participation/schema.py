"""The participation capability's tables (versions 1-99 are Open311's):

* ``participation_services``: the GeoReport service list and definitions (attributes as JSON), with the owning
  organisation and whether it is ``sensitive`` (its descriptions are not in the open dataset);
* ``participation_requests``: service requests: the public fields, the workflow state, moderation;
* ``participation_contacts``: the contact details of a request (never published; a table of their own so that no
  public read can select them by accident);
* ``participation_updates``: the update history of a request (state, notes, agency, the update's own time);
* ``participation_media``: uploaded photos, stored only after EXIF stripping and blurring.
"""

from __future__ import annotations

from urbanos.storage import Connection, Migration


def _v1(c: Connection) -> None:
    d = c.dialect
    c.execute(
        f"CREATE TABLE participation_services (id {d.pk}, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
        " description TEXT NOT NULL DEFAULT '', type TEXT NOT NULL, keywords TEXT NOT NULL DEFAULT '',"
        " grp TEXT NOT NULL DEFAULT '', owner_org TEXT, attributes TEXT NOT NULL, created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL)"
    )
    c.execute(
        f"CREATE TABLE participation_requests (id {d.pk}, service_code TEXT NOT NULL, owner_org TEXT,"
        " state TEXT NOT NULL, status TEXT NOT NULL, status_notes TEXT, agency TEXT, service_notice TEXT,"
        " description TEXT, lat DOUBLE PRECISION, lon DOUBLE PRECISION, address TEXT, address_id TEXT, zipcode TEXT,"
        " media_url TEXT, media_key TEXT, media_hidden INTEGER NOT NULL DEFAULT 0, attributes TEXT, token TEXT UNIQUE, subject TEXT NOT NULL,"
        " requested_at TEXT NOT NULL, updated_at TEXT NOT NULL, state_at TEXT NOT NULL, expected_at TEXT,"
        " hidden INTEGER NOT NULL DEFAULT 0, hidden_reason TEXT)"
    )
    c.execute("CREATE INDEX participation_requests_requested ON participation_requests (requested_at, id)")
    c.execute("CREATE INDEX participation_requests_service ON participation_requests (service_code, requested_at, id)")
    c.execute("CREATE INDEX participation_requests_updated ON participation_requests (updated_at)")
    c.execute(
        "CREATE TABLE participation_contacts (request_id INTEGER PRIMARY KEY, email TEXT, first_name TEXT,"
        " last_name TEXT, phone TEXT, device_id TEXT, account_id TEXT)"
    )
    c.execute(
        f"CREATE TABLE participation_updates (id {d.pk}, request_id INTEGER NOT NULL, state TEXT NOT NULL,"
        " notes TEXT, agency TEXT, updated_at TEXT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT NOT NULL,"
        " applied INTEGER NOT NULL)"
    )
    c.execute("CREATE INDEX participation_updates_by_request ON participation_updates (request_id, id)")
    c.execute(
        f"CREATE TABLE participation_media (id {d.pk}, key TEXT NOT NULL UNIQUE, content_type TEXT NOT NULL,"
        f" data {d.blob_type} NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, faces INTEGER NOT NULL,"
        " plates INTEGER NOT NULL, hidden INTEGER NOT NULL DEFAULT 0, hidden_reason TEXT, created_at TEXT NOT NULL)"
    )


def _v2(c: Connection) -> None:
    # a sensitive service's descriptions stay out of the open dataset; the purge finds closed requests by date
    c.execute("ALTER TABLE participation_services ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0")
    c.execute("CREATE INDEX participation_requests_state_at ON participation_requests (status, state_at)")


MIGRATIONS = [Migration("participation", 1, "Open311 services, requests, contacts, updates and media", _v1),
              Migration("participation", 2, "Open311 sensitive services; closed requests by date", _v2)]

__all__ = ["MIGRATIONS"]
