"""DCAT-AP 3 export of the catalogue: ``/catalog.ttl|.jsonld|.rdf`` (Hydra paged) and
``/dataset/{name}.ttl|.jsonld|.rdf``, with an optional DCAT-AP.de profile (setting or ``?profile=dcatapde``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from urbanos.settings import Setting

if TYPE_CHECKING:  # types only: the platform and the web framework load when a hook runs
    import click
    from fastapi import FastAPI

    from urbanos.platform import Platform

SETTINGS: tuple[Setting, ...] = (
    Setting("dcat_page_size", int, 100, "Datasets per page of the DCAT-AP catalogue (/catalog.ttl).", section="catalog",
            minimum=1),
    Setting("dcat_profile", str, "dcatap", "Default DCAT profile: dcatap (DCAT-AP 3) or dcatapde (DCAT-AP.de).",
            section="catalog", choices=("dcatap", "dcatapde")),
    Setting("dcat_catalog_title", str, "", "Title of the DCAT catalogue (default: '<city> open data catalogue').",
            section="catalog"),
    Setting("dcat_catalog_description", str, "", "Description of the DCAT catalogue.", section="catalog"),
    Setting("dcat_contributor_id", str, "", "DCAT-AP.de dcatde:contributorID URI of this portal.", section="catalog"),
    Setting("dcat_geocoding_uri", str, "", "DCAT-AP.de dcatde:politicalGeocodingURI of the city.", section="catalog"),
)


def mount(app: FastAPI, platform: Platform) -> None:
    from urbanos.catalog.dcat.routes import mount_routes  # lazily: this module is imported for its settings

    mount_routes(app)


async def startup(platform: Platform) -> None:
    return None


async def shutdown(platform: Platform) -> None:
    return None


def cli_commands() -> list[click.Command]:
    return []
