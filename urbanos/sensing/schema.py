"""Tables of the sensing capability (migrations, both back ends).

Observations are the big table: integer Datastream id, phenomenon start/end as fixed-width UTC
ISO text (text order is time order), the index ``(datastream_id, phen_start DESC, id)`` for the
"latest N" and time-range paths, an index on result time, and a maintained pointer
(``last_obs_id``/``last_phen``) on each Datastream to its latest Observation.

Version 2 adds ``owner_org`` (the organisation that owns the row; see :mod:`urbanos.sensing.ownership`) to every
entity table whose owner is its own: Things, Datastreams and MultiDatastreams (used when they have no dataset),
Locations, Sensors, ObservedProperties and FeaturesOfInterest. Observations and HistoricalLocations have none:
they belong to whoever owns their (Multi)Datastream or Thing. Rows from before version 2 keep NULL (owned by no
organisation: only global publishers and admins change them).

Version 3 (PostgreSQL only) makes ``sta_observations`` range-partitioned on ``phen_start`` with the same columns and
indexes and the primary key ``(id, phen_start)``; see :mod:`urbanos.sensing.partitions`.
"""

from __future__ import annotations

from urbanos.sensing.partitions import migrate as migrate_to_partitions
from urbanos.storage import Connection, Migration


def _v1(c: Connection) -> None:
    d = c.dialect
    pk, js, big = d.pk, d.json_type, d.bigint
    ds_ref = "REFERENCES datasets(id) ON DELETE SET NULL"
    c.execute(f"CREATE TABLE sta_things (id {pk}, name TEXT NOT NULL, description TEXT, properties {js},"
              f" dataset_id {big} {ds_ref})")
    c.execute("CREATE INDEX sta_things_dataset ON sta_things (dataset_id)")
    c.execute(f"CREATE TABLE sta_locations (id {pk}, name TEXT NOT NULL, description TEXT, encoding_type TEXT,"
              f" location {js}, properties {js})")
    c.spatial.add_geometry_column(c, "sta_locations", "geom")
    c.execute(f"CREATE TABLE sta_thing_locations (thing_id {big} NOT NULL REFERENCES sta_things(id) ON DELETE CASCADE,"
              f" location_id {big} NOT NULL REFERENCES sta_locations(id) ON DELETE CASCADE, PRIMARY KEY (thing_id, location_id))")
    c.execute("CREATE INDEX sta_thing_locations_loc ON sta_thing_locations (location_id)")
    c.execute(f"CREATE TABLE sta_historical_locations (id {pk}, loc_time TEXT NOT NULL,"
              f" thing_id {big} NOT NULL REFERENCES sta_things(id) ON DELETE CASCADE)")
    c.execute("CREATE INDEX sta_hl_thing ON sta_historical_locations (thing_id, loc_time)")
    c.execute(f"CREATE TABLE sta_hist_locations (historical_location_id {big} NOT NULL"
              f" REFERENCES sta_historical_locations(id) ON DELETE CASCADE,"
              f" location_id {big} NOT NULL REFERENCES sta_locations(id) ON DELETE CASCADE,"
              " PRIMARY KEY (historical_location_id, location_id))")
    c.execute("CREATE INDEX sta_hist_locations_loc ON sta_hist_locations (location_id)")
    c.execute(f"CREATE TABLE sta_sensors (id {pk}, name TEXT NOT NULL, description TEXT, encoding_type TEXT,"
              f" metadata TEXT, properties {js})")
    c.execute(f"CREATE TABLE sta_observed_properties (id {pk}, name TEXT NOT NULL, definition TEXT, description TEXT,"
              f" properties {js})")
    common = (f"name TEXT NOT NULL, description TEXT, observation_type TEXT, observed_area {js},"
              " phen_start TEXT, phen_end TEXT, rtime_start TEXT, rtime_end TEXT,"
              f" properties {js}, thing_id {big} NOT NULL REFERENCES sta_things(id) ON DELETE CASCADE,"
              f" sensor_id {big} NOT NULL REFERENCES sta_sensors(id) ON DELETE CASCADE,"
              f" dataset_id {big} {ds_ref}, last_obs_id {big}, last_phen TEXT")
    c.execute(f"CREATE TABLE sta_datastreams (id {pk}, unit {js}, {common},"
              f" observed_property_id {big} NOT NULL REFERENCES sta_observed_properties(id) ON DELETE CASCADE)")
    c.execute(f"CREATE TABLE sta_multi_datastreams (id {pk}, units {js}, data_types {js}, {common})")
    for t in ("sta_datastreams", "sta_multi_datastreams"):
        c.execute(f"CREATE INDEX {t}_thing ON {t} (thing_id)")
        c.execute(f"CREATE INDEX {t}_sensor ON {t} (sensor_id)")
        c.execute(f"CREATE INDEX {t}_dataset ON {t} (dataset_id)")
    c.execute("CREATE INDEX sta_datastreams_op ON sta_datastreams (observed_property_id)")
    c.execute(f"CREATE TABLE sta_mds_properties (multi_datastream_id {big} NOT NULL"
              " REFERENCES sta_multi_datastreams(id) ON DELETE CASCADE,"
              f" observed_property_id {big} NOT NULL REFERENCES sta_observed_properties(id) ON DELETE CASCADE,"
              " rank INTEGER NOT NULL, PRIMARY KEY (multi_datastream_id, observed_property_id))")
    c.execute("CREATE INDEX sta_mds_properties_op ON sta_mds_properties (observed_property_id)")
    c.execute(f"CREATE TABLE sta_features (id {pk}, name TEXT NOT NULL, description TEXT, encoding_type TEXT,"
              f" feature {js}, properties {js}, location_id {big} REFERENCES sta_locations(id) ON DELETE SET NULL)")
    c.spatial.add_geometry_column(c, "sta_features", "geom")
    c.execute("CREATE INDEX sta_features_location ON sta_features (location_id)")
    c.execute(
        f"CREATE TABLE sta_observations (id {pk}, phen_start TEXT NOT NULL, phen_end TEXT, result_time TEXT,"
        " result TEXT, result_num DOUBLE PRECISION, result_quality TEXT, valid_start TEXT, valid_end TEXT,"
        f" parameters {js},"
        f" datastream_id {big} REFERENCES sta_datastreams(id) ON DELETE CASCADE,"
        f" multi_datastream_id {big} REFERENCES sta_multi_datastreams(id) ON DELETE CASCADE,"
        f" feature_id {big} NOT NULL REFERENCES sta_features(id) ON DELETE CASCADE)"
    )
    c.execute("CREATE INDEX sta_obs_ds_phen ON sta_observations (datastream_id, phen_start DESC, id)")
    c.execute("CREATE INDEX sta_obs_mds_phen ON sta_observations (multi_datastream_id, phen_start DESC, id)")
    c.execute("CREATE INDEX sta_obs_result_time ON sta_observations (result_time)")
    c.execute("CREATE INDEX sta_obs_phen ON sta_observations (phen_start)")
    c.execute("CREATE INDEX sta_obs_feature ON sta_observations (feature_id)")


OWNED_TABLES = ("sta_things", "sta_datastreams", "sta_multi_datastreams", "sta_locations", "sta_sensors",
                "sta_observed_properties", "sta_features")


def _v2(c: Connection) -> None:
    for t in OWNED_TABLES:
        c.execute(f"ALTER TABLE {t} ADD COLUMN owner_org TEXT")


def _v3(c: Connection) -> None:
    migrate_to_partitions(c)


MIGRATIONS = [Migration("sensing", 1, "SensorThings entities", _v1),
              Migration("sensing", 2, "owning organisation of SensorThings rows", _v2),
              Migration("sensing", 3, "Observations partitioned by phenomenon time (PostgreSQL)", _v3)]

__all__ = ["MIGRATIONS", "OWNED_TABLES"]
