"""CKAN DataStore actions on feature collections, and imports of files uploaded through resource_create.

Actions (dispatched by the catalogue's Action API with CKAN's envelope, :class:`~urbanos.ports.CkanActionsPort`;
see docs/import.md#datastore):

* ``datastore_search`` — filters, q, distinct, fields, sort, limit, offset, include_total, records_format;
* ``datastore_search_sql`` — one read-only SELECT, whitelisted functions, a timeout; off unless the setting
  ``datastore_sql_enabled`` is true (checks and database guard: :mod:`urbanos.features.datastore.sql`);
* ``datastore_create``, ``datastore_upsert`` (insert, update, upsert by primary key or ``_id``),
  ``datastore_delete`` (rows matching filters, or the whole table), ``datastore_info``.

The modules: ``args`` (CKAN's arguments and types), ``resources`` (what a resource id names, who may change it),
``search`` (the reads), ``write`` (the writes), ``sql`` (the guard of datastore_search_sql), ``upload`` (imports of
uploaded and linked resources), ``reports`` (their import reports) and ``actions`` (the actions by name).

An uploaded (or, with ``datastore_fetch_urls``, fetched) resource is imported in the background when its catalogue
event arrives; the import's state and report are kept in the table ``feature_import_reports``, so every process on
the database and a restarted one see them. The portal reads them through
:meth:`~urbanos.ports.FeaturesPort.import_report`; reports quote cell values, so they are shown only to callers who
may publish to the dataset.
"""

from __future__ import annotations

from urbanos.features.datastore.actions import ACTIONS, DatastoreActions
from urbanos.features.datastore.reports import read_import, record_import
from urbanos.features.datastore.resources import resolve
from urbanos.features.datastore.search import datastore_info, datastore_search, datastore_search_sql
from urbanos.features.datastore.upload import import_upload, import_url, replace_guard, watch_catalog
from urbanos.features.datastore.write import datastore_create, datastore_delete, datastore_upsert

__all__ = ["ACTIONS", "DatastoreActions", "watch_catalog", "datastore_search", "datastore_search_sql", "datastore_info",
           "datastore_create", "datastore_upsert", "datastore_delete", "import_upload", "import_url", "replace_guard",
           "record_import", "read_import", "resolve"]
