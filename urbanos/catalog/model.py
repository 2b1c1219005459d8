"""Catalogue tables and vocabularies (DCAT-AP 3 underneath).

The governance layer owns ``organizations``, ``datasets`` and ``dataset_grants``. The catalogue adds:

* ``catalog_meta``: one row per dataset, the DCAT-AP metadata as a JSON document (``doc``) and the
  ``modified_at`` of the ``datasets`` row it was last indexed for (``indexed_at``). Datasets that other
  capabilities insert with only the governance columns get an empty document on first sight.
* ``catalog_facets``: (dataset_id, field, value) rows for tags, theme, groups, res_format, license_id,
  frequency and grounds; facets and ``fq`` filters read them.
* ``catalog_fts`` (SQLite FTS5) or ``catalog_search`` (PostgreSQL tsvector + GIN): the full-text index, folded
  words and their English and German stems (migration 3, ``urbanos.catalog.stemming``).
* ``catalog_spatial``: spatial coverage geometry (WGS84) with its spatial index.
* ``catalog_resources``: distributions (url, format, media type, size, upload path, collection link).
* ``catalog_groups`` and ``catalog_group_members``; ``catalog_org_members`` (member_create for users).
* ``catalog_data_services``: DCAT data services (endpoint URL, description, served datasets).
* ``catalog_pending``: metadata waiting for a dataset that another capability has not created yet.
* ``catalog_usage``: aggregate usage counts (day, dataset, resource, api, application, kind, count).
* ``catalog_version`` and ``catalog_changes``: the catalogue version, a counter that triggers move on
  every committed change of ``datasets`` and ``dataset_grants``, and the number of each dataset's last
  change (migration 2).
* ``catalog_dataset_ids``, ``catalog_org_ids`` and ``catalog_group_ids``: the public UUID of every dataset,
  organisation and group, kept by triggers (migration 4, :mod:`urbanos.catalog.uuids`).
"""

from __future__ import annotations

from urbanos.catalog import uuids
from urbanos.storage import Connection, Migration

# EU data themes (http://publications.europa.eu/resource/authority/data-theme) and the city domains.
EU_THEMES = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
    "OP_DATPRO": "Provisional data",
}
CITY_DOMAINS = {
    "economy": "Smart economy",
    "living": "Smart living",
    "governance": "Smart governance",
    "environment": "Smart environment",
    "mobility": "Smart mobility",
    "people": "Smart people",
    "security": "Safety and security",
}
THEMES = {**EU_THEMES, **CITY_DOMAINS}
EU_THEME_URI = "http://publications.europa.eu/resource/authority/data-theme/"

# EU frequency vocabulary (http://publications.europa.eu/resource/authority/frequency): code -> days.
# None: no expected period (irregular, unknown, never, as needed).
FREQUENCIES: dict[str, float | None] = {
    "UPDATE_CONT": 1 / 24, "CONT": 1 / 24, "1MIN": 1 / 1440, "5MIN": 5 / 1440, "10MIN": 10 / 1440,
    "15MIN": 15 / 1440, "30MIN": 30 / 1440, "HOURLY": 1 / 24, "BIHOURLY": 2 / 24, "TRIHOURLY": 3 / 24,
    "12HRS": 0.5, "DAILY": 1, "DAILY_2": 0.5, "BIDAILY": 2, "TRIDAILY": 3, "WEEKLY": 7, "WEEKLY_2": 3.5,
    "WEEKLY_3": 7 / 3, "BIWEEKLY": 14, "MONTHLY": 31, "MONTHLY_2": 15.5, "MONTHLY_3": 31 / 3,
    "BIMONTHLY": 62, "QUARTERLY": 92, "ANNUAL": 366, "ANNUAL_2": 183, "ANNUAL_3": 122, "BIENNIAL": 731,
    "TRIENNIAL": 1096, "QUADRENNIAL": 1461, "QUINQUENNIAL": 1827, "DECENNIAL": 3653, "BIDECENNIAL": 7305,
    "TRIDECENNIAL": 10958, "IRREG": None, "OTHER": None, "UNKNOWN": None, "NEVER": None,
    "AS_NEEDED": None, "NOT_PLANNED": None, "OP_DATPRO": None,
}
FREQUENCY_URI = "http://publications.europa.eu/resource/authority/frequency/"

# Grounds for non-disclosure: INSPIRE Directive 2007/2/EC Art. 13(1) (a)-(h), plus local codes.
GROUNDS = {
    "inspire-13-1-a": "Confidentiality of the proceedings of public authorities, where provided by law (INSPIRE Art. 13(1)(a))",
    "inspire-13-1-b": "International relations, public security or national defence (INSPIRE Art. 13(1)(b))",
    "inspire-13-1-c": "The course of justice, fair trial, criminal or disciplinary enquiries (INSPIRE Art. 13(1)(c))",
    "inspire-13-1-d": "Confidentiality of commercial or industrial information (INSPIRE Art. 13(1)(d))",
    "inspire-13-1-e": "Intellectual property rights (INSPIRE Art. 13(1)(e))",
    "inspire-13-1-f": "Confidentiality of personal data (INSPIRE Art. 13(1)(f))",
    "inspire-13-1-g": "Interests or protection of a person who supplied the information voluntarily (INSPIRE Art. 13(1)(g))",
    "inspire-13-1-h": "Protection of the environment, such as the location of rare species (INSPIRE Art. 13(1)(h))",
    "gdpr-personal-data": "Personal data protected by the GDPR",
    "security": "Security of people, infrastructure or systems",
    "third-party-rights": "Rights of third parties (contracts, licences)",
    "not-yet-processed": "Not yet processed for publication",
}

LICENSES = [
    {"id": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0", "url": "https://creativecommons.org/licenses/by/4.0/", "od_conformance": "approved"},
    {"id": "CC-BY-SA-4.0", "title": "Creative Commons Attribution Share-Alike 4.0", "url": "https://creativecommons.org/licenses/by-sa/4.0/", "od_conformance": "approved"},
    {"id": "CC0-1.0", "title": "Creative Commons CCZero 1.0", "url": "https://creativecommons.org/publicdomain/zero/1.0/", "od_conformance": "approved"},
    {"id": "dl-de-by-2.0", "title": "Datenlizenz Deutschland – Namensnennung – Version 2.0", "url": "https://www.govdata.de/dl-de/by-2-0", "od_conformance": "approved"},
    {"id": "dl-de-zero-2.0", "title": "Datenlizenz Deutschland – Zero – Version 2.0", "url": "https://www.govdata.de/dl-de/zero-2-0", "od_conformance": "approved"},
    {"id": "ODbL-1.0", "title": "Open Data Commons Open Database License 1.0", "url": "https://opendatacommons.org/licenses/odbl/1-0/", "od_conformance": "approved"},
    {"id": "OGL-UK-3.0", "title": "Open Government Licence 3.0", "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/", "od_conformance": "approved"},
    {"id": "other-closed", "title": "Other (not open)", "url": "", "od_conformance": "not reviewed"},
    {"id": "notspecified", "title": "License not specified", "url": "", "od_conformance": "not reviewed"},
]
LICENSE_BY_ID = {lic["id"]: lic for lic in LICENSES}

# Formats: machine readable and non-proprietary (EU file-type vocabulary codes, upper case).
MACHINE_READABLE = {"CSV", "TSV", "JSON", "GEOJSON", "XML", "RDF", "TTL", "JSON_LD", "JSONLD", "XLSX", "XLS", "ODS",
                    "GML", "KML", "GPKG", "SHP", "PARQUET", "WMS_SRVC", "WFS_SRVC", "API", "OGC_API", "SENSORTHINGS"}
NON_PROPRIETARY = {"CSV", "TSV", "JSON", "GEOJSON", "XML", "RDF", "TTL", "JSON_LD", "JSONLD", "ODS", "GML", "KML",
                   "GPKG", "PARQUET", "TXT", "HTML", "PDF", "WMS_SRVC", "WFS_SRVC", "API", "OGC_API", "SENSORTHINGS", "ZIP"}
MEDIA_TYPES = {
    "CSV": "text/csv", "TSV": "text/tab-separated-values", "JSON": "application/json",
    "GEOJSON": "application/geo+json", "XML": "application/xml", "RDF": "application/rdf+xml", "TTL": "text/turtle",
    "JSONLD": "application/ld+json", "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "XLS": "application/vnd.ms-excel", "ODS": "application/vnd.oasis.opendocument.spreadsheet",
    "GML": "application/gml+xml", "KML": "application/vnd.google-earth.kml+xml", "GPKG": "application/geopackage+sqlite3",
    "ZIP": "application/zip", "PDF": "application/pdf", "TXT": "text/plain", "HTML": "text/html",
    "PARQUET": "application/vnd.apache.parquet", "SHP": "application/x-shapefile",
}

# Facet fields kept in catalog_facets (organization and access_level come from the datasets table).
FACET_TABLE_FIELDS = ("tags", "theme", "groups", "res_format", "license_id", "frequency", "grounds")
FACET_FIELDS = ("organization", "access_level", *FACET_TABLE_FIELDS)


def _v1(c: Connection) -> None:
    pk, js = c.dialect.pk, c.dialect.json_type
    c.execute(
        f"CREATE TABLE catalog_meta (dataset_id BIGINT PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,"
        f" doc {js}, indexed_at TEXT NOT NULL DEFAULT '')"
    )
    c.execute(
        "CREATE TABLE catalog_facets (dataset_id BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
        " field TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (dataset_id, field, value))"
    )
    c.execute("CREATE INDEX catalog_datasets_modified ON datasets (modified_at)")
    c.execute("CREATE INDEX catalog_facets_fv ON catalog_facets (field, value, dataset_id)")
    if c.dialect.name == "sqlite":
        c.execute("CREATE VIRTUAL TABLE catalog_fts USING fts5(name, title, notes, tags, other, tokenize='unicode61 remove_diacritics 2')")
    else:
        c.execute(
            "CREATE TABLE catalog_search (dataset_id BIGINT PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,"
            " tsv tsvector NOT NULL)"
        )
        c.execute("CREATE INDEX catalog_search_tsv ON catalog_search USING GIN (tsv)")
    c.execute(
        "CREATE TABLE catalog_spatial (id BIGINT PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE)"
    )
    c.spatial.add_geometry_column(c, "catalog_spatial", "geom")
    c.execute(
        "CREATE TABLE catalog_resources (id TEXT PRIMARY KEY, dataset_id BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
        " position INTEGER NOT NULL DEFAULT 0, name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',"
        " url TEXT NOT NULL DEFAULT '', format TEXT NOT NULL DEFAULT '', mimetype TEXT NOT NULL DEFAULT '', size BIGINT,"
        " url_type TEXT NOT NULL DEFAULT '', upload_path TEXT NOT NULL DEFAULT '', collection TEXT NOT NULL DEFAULT '',"
        f" datastore_active INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL, last_modified TEXT NOT NULL, extras {js})"
    )
    c.execute("CREATE INDEX catalog_resources_ds ON catalog_resources (dataset_id, position)")
    c.execute(
        f"CREATE TABLE catalog_groups (id {pk}, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '',"
        " description TEXT NOT NULL DEFAULT '', image_url TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)"
    )
    c.execute(
        "CREATE TABLE catalog_group_members (group_id BIGINT NOT NULL REFERENCES catalog_groups(id) ON DELETE CASCADE,"
        " dataset_id BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE, PRIMARY KEY (group_id, dataset_id))"
    )
    c.execute(
        "CREATE TABLE catalog_org_members (org TEXT NOT NULL, subject TEXT NOT NULL, capacity TEXT NOT NULL,"
        " created_at TEXT NOT NULL, PRIMARY KEY (org, subject))"
    )
    c.execute(
        f"CREATE TABLE catalog_data_services (id {pk}, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '',"
        " description TEXT NOT NULL DEFAULT '', endpoint_url TEXT NOT NULL, endpoint_description TEXT NOT NULL DEFAULT '',"
        f" conforms_to TEXT NOT NULL DEFAULT '', owner_org TEXT, access_level TEXT NOT NULL DEFAULT 'open', serves {js})"
    )
    c.execute(f"CREATE TABLE catalog_pending (name TEXT PRIMARY KEY, doc {js})")
    c.execute(
        f"CREATE TABLE catalog_usage (day TEXT NOT NULL, dataset TEXT NOT NULL, resource TEXT NOT NULL, api TEXT NOT NULL,"
        f" application TEXT NOT NULL, kind TEXT NOT NULL, count {c.dialect.bigint} NOT NULL,"
        " PRIMARY KEY (day, dataset, resource, api, application, kind))"
    )


def _v2(c: Connection) -> None:
    """The catalogue version as a change counter kept by triggers (see ``urbanos.catalog.facetindex``).

    Every committed change of ``datasets`` or ``dataset_grants`` adds one to ``catalog_version.n``; each
    changed dataset records the number of its last change in ``catalog_changes``. On PostgreSQL the
    triggers are deferred to commit, so the counter row is the last lock a writer takes and holds only
    while it commits: numbers follow commit order, and two writers cannot deadlock over the counter.
    SQLite has one writer at a time, so plain triggers do the same there."""
    c.execute("CREATE TABLE catalog_version (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)")
    c.execute("INSERT INTO catalog_version (id, n) VALUES (1, 0)")
    c.execute("CREATE TABLE catalog_changes (dataset_id BIGINT PRIMARY KEY, seq BIGINT NOT NULL)")
    c.execute("CREATE INDEX catalog_changes_seq ON catalog_changes (seq)")
    if c.dialect.name == "sqlite":
        bump = "UPDATE catalog_version SET n = n + 1 WHERE id = 1;"
        record = ("INSERT OR REPLACE INTO catalog_changes (dataset_id, seq)"
                  " VALUES (NEW.id, (SELECT n FROM catalog_version WHERE id = 1));")
        for op in ("INSERT", "UPDATE"):
            c.execute(f"CREATE TRIGGER catalog_datasets_{op.lower()} AFTER {op} ON datasets BEGIN {bump} {record} END")
        c.execute(f"CREATE TRIGGER catalog_datasets_delete AFTER DELETE ON datasets BEGIN {bump}"
                  " DELETE FROM catalog_changes WHERE dataset_id = OLD.id; END")
        for op in ("INSERT", "UPDATE", "DELETE"):
            c.execute(f"CREATE TRIGGER catalog_grants_{op.lower()} AFTER {op} ON dataset_grants BEGIN {bump} END")
        return
    c.execute(
        "CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$"
        " DECLARE v BIGINT;"
        " BEGIN"
        "  UPDATE catalog_version SET n = n + 1 WHERE id = 1 RETURNING n INTO v;"
        "  IF TG_TABLE_NAME = 'datasets' THEN"
        "   IF TG_OP = 'DELETE' THEN DELETE FROM catalog_changes WHERE dataset_id = OLD.id;"
        "   ELSE INSERT INTO catalog_changes (dataset_id, seq) VALUES (NEW.id, v)"
        "    ON CONFLICT (dataset_id) DO UPDATE SET seq = EXCLUDED.seq;"
        "   END IF;"
        "  END IF;"
        "  RETURN NULL;"
        " END $$"
    )
    for table in ("datasets", "dataset_grants"):
        c.execute(f"CREATE CONSTRAINT TRIGGER catalog_{table}_changed AFTER INSERT OR UPDATE OR DELETE ON {table}"
                  " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_changed()")


def _v3_search_stems(c: Connection) -> None:
    """The full-text index keeps each field's folded words and their English and German stems
    (``urbanos.catalog.stemming``); the text is cut into words in Python on both back ends. The old index is
    dropped and every dataset marked for reindexing, which the first search after the upgrade does
    (``urbanos catalog reindex`` does it at once)."""
    if c.dialect.name == "sqlite":
        c.execute("DROP TABLE IF EXISTS catalog_fts")
        fields = ("name", "title", "notes", "tags", "other")
        columns = [*fields, *(f"{f}_en" for f in fields), *(f"{f}_de" for f in fields)]
        c.execute(f"CREATE VIRTUAL TABLE catalog_fts USING fts5({', '.join(columns)}, tokenize='ascii')")
    else:
        c.execute("DELETE FROM catalog_search")
    c.execute("UPDATE catalog_meta SET indexed_at = ''")


MIGRATIONS = [Migration("catalog", 1, "catalogue metadata, facets, full text, resources, groups, usage", _v1),
              Migration("catalog", 2, "catalogue version kept as a change counter", _v2),
              Migration("catalog", 3, "full text with English and German stems", _v3_search_stems),
              Migration("catalog", 4, "UUIDs of datasets, organisations and groups", uuids.migrate)]

__all__ = ["MIGRATIONS", "THEMES", "EU_THEMES", "CITY_DOMAINS", "FREQUENCIES", "GROUNDS", "LICENSES", "LICENSE_BY_ID",
           "MACHINE_READABLE", "NON_PROPRIETARY", "MEDIA_TYPES", "FACET_FIELDS", "FACET_TABLE_FIELDS"]
