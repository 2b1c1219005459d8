"""The catalogue service: ``platform.services["catalog"]``, one object for the catalogue's routes, its CLI and its
sub-packages (DCAT export, harvesting, the portal). Other capabilities ask the catalogue through
:class:`urbanos.ports.CatalogPort` instead (:mod:`urbanos.catalog.provider`).

It is made of four parts, each in a module of its own; the facade names their stable methods (``identity`` is a
governance ``Identity``; every read is filtered by the gate; errors are ``urbanos.errors`` classes):

``reads`` (:mod:`~urbanos.catalog.read_service`)
  ``await package_show(identity, name_or_id, base_url="", usage_api="")`` -> CKAN package dict. Governance
      fields appear both as top-level keys and in ``extras``. 404 unknown, 403 when the caller may not read it.
  ``await package_list(identity, limit=None, offset=0)`` -> names
  ``await organization_show(identity, name, include_datasets=False)``, ``await organization_list(identity, all_fields=False)``
  ``await group_show(identity, name, include_datasets=False)``, ``await group_list(identity, all_fields=False)``
  ``await resource_show(identity, resource_id, base_url="", usage_api="")`` -> resource dict
  ``await resource_file(identity, resource_id)`` -> (Path, filename, media type, package name) for downloads
  ``await tag_list(identity, query="")``, ``license_list()``, ``status_show()``
  ``await quality(identity, name)`` -> MQA breakdown (see ``quality.py``)
  ``await freshness(name)`` -> {status, last_update, frequency, max_age_days, age_days}
  ``await inventory(identity)`` -> every active dataset with metadata only (resource URLs only when open)
  ``await data_service_list(identity)`` -> DCAT data services the caller may see
``search`` (:mod:`~urbanos.catalog.search_service`)
  ``await package_search(identity, q="", fq="", facet_fields=(), rows=10, start=0, sort=None, facet_limit=50,
      include_private=True, base_url="", ext_bbox=None)`` -> {count, results, facets, search_facets, sort}. Bad
      q/fq/sort raise ``SearchQueryError`` (400).
  ``await all_packages(identity, base_url="", page=1, page_size=100)`` -> (packages, total) for exports
``writes`` (:mod:`~urbanos.catalog.write_service`)
  ``package_create/package_update/package_patch(identity, data)``, ``package_delete(identity, id)``,
  ``dataset_purge(identity, id)``, ``resource_create/resource_update/resource_patch(identity, data,
  upload=None)`` with ``upload=(filename, bytes)``, ``resource_delete(identity, id)``,
  ``organization_create(identity, data)``, ``group_create(identity, data)``, ``member_create(identity, data)``,
  ``member_delete(identity, data)`` (organisation members get roles: see ``members.py``)
``usage`` (:mod:`~urbanos.catalog.usage`)
  the :class:`UsageRecorder`: it counts the ``events.Usage`` of every API; ``await usage.flush()`` writes them.
"""

from __future__ import annotations

from urbanos.catalog.read_service import CatalogReads
from urbanos.catalog.search_service import CatalogSearch
from urbanos.catalog.usage import UsageRecorder
from urbanos.catalog.write_service import CatalogWrites
from urbanos.platform import Platform


class CatalogService:
    """The catalogue's parts, and their stable methods under one name."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db
        self.gate = platform.gate
        self.usage = UsageRecorder(platform)
        self.search = search = CatalogSearch(platform)
        self.reads = reads = CatalogReads(platform, search)
        self.writes = write = CatalogWrites(platform, reads)
        self.upload_dir = reads.upload_dir
        # search
        self.ensure_indexed = search.ensure_indexed
        self.package_search = search.package_search
        self.search_sync = search.search_sync
        self.all_packages = search.all_packages
        self.packages = search.packages
        # reads
        self.package_show = reads.package_show
        self.resource_show = reads.resource_show
        self.resource_file = reads.resource_file
        self.package_list = reads.package_list
        self.organization_list = reads.organization_list
        self.organization_show = reads.organization_show
        self.group_list = reads.group_list
        self.group_show = reads.group_show
        self.tag_list = reads.tag_list
        self.license_list = reads.license_list
        self.status_show = reads.status_show
        self.data_service_list = reads.data_service_list
        self.inventory = reads.inventory
        self.quality = reads.quality
        self.freshness = reads.freshness
        # writes
        self.package_create = write.package_create
        self.package_update = write.package_update
        self.package_patch = write.package_patch
        self.package_delete = write.package_delete
        self.dataset_purge = write.dataset_purge
        self.resource_create = write.resource_create
        self.resource_update = write.resource_update
        self.resource_patch = write.resource_patch
        self.resource_delete = write.resource_delete
        self.organization_create = write.organization_create
        self.group_create = write.group_create
        self.member_create = write.member_create
        self.member_delete = write.member_delete


__all__ = ["CatalogService"]
