"""The DataStore actions this capability serves through the catalogue's CKAN Action API
(:class:`~urbanos.ports.CkanActionsPort`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from urbanos.features.datastore.search import datastore_info, datastore_search, datastore_search_sql
from urbanos.features.datastore.write import datastore_create, datastore_delete, datastore_upsert
from urbanos.ports import CkanAction

ACTIONS: Mapping[str, CkanAction] = MappingProxyType({
    "datastore_search": datastore_search, "datastore_search_sql": datastore_search_sql,
    "datastore_create": datastore_create, "datastore_upsert": datastore_upsert,
    "datastore_delete": datastore_delete, "datastore_info": datastore_info,
})


class DatastoreActions:
    """:class:`~urbanos.ports.CkanActionsPort`: the ``datastore_*`` actions by name."""

    def ckan_actions(self) -> Mapping[str, CkanAction]:
        return ACTIONS


__all__ = ["ACTIONS", "DatastoreActions"]
