"""Observations partitioned by phenomenon time (PostgreSQL): the fresh table, partitions created ahead (once, by
one process), the DEFAULT partition for times no partition covers, rows moved across partitions by a PATCH, the
latest pointer read through $expand, retention emptying a whole partition and keeping a shared one. The API checks
without partitions run on SQLite too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.sensing.sta_helpers import Sta, thing
from urbanos.ports import SensingPort
from urbanos.sensing import partitions as P


@pytest.fixture
def sta(client: Any, admin_headers: dict[str, str]) -> Sta:
    return Sta(client, admin_headers)


def _stream(sta: Sta, name: str = "T") -> int:
    tid = sta.create("/Things", thing(name))["@iot.id"]
    return int(sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"])


def _where(platform: Any, obs_id: int) -> str:
    return str(platform.db.read_sync(lambda c: c.fetchval(
        "SELECT tableoid::regclass::text FROM sta_observations WHERE id = ?", (obs_id,))))


def _names(platform: Any) -> list[str]:
    return [p.name for p in platform.db.read_sync(P.partitions)]


def _latest(sta: Sta, ds: int) -> list[str]:
    v = sta.ok(f"/Datastreams?$filter=id eq {ds}&$expand=Observations($top=1;$orderby=phenomenonTime desc)")
    return [o["phenomenonTime"] for o in v["value"][0]["Observations"]]


@pytest.mark.postgres
def test_a_fresh_table_is_partitioned_with_a_default_and_the_periods_ahead(platform: Any) -> None:
    assert platform.db.read_sync(P.partitioned)
    names = _names(platform)
    assert names[-1] == P.DEFAULT
    now = datetime.now(UTC)
    months = int(platform.settings.sta_partition_months)
    first = (now.year * 12 + now.month - 1) // months * months
    want = [P.PREFIX + P.stamp(first + k * months)[0:10].replace("-", "")
            for k in range(int(platform.settings.sta_partitions_ahead) + 1)]
    assert set(want) <= set(names)
    keys = platform.db.read_sync(lambda c: c.fetchall(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = 'sta_observations'::regclass AND i.indisprimary"))
    assert sorted(r[0] for r in keys) == ["id", "phen_start"]


@pytest.mark.postgres
def test_maintenance_creates_the_periods_ahead_once_and_moves_stray_rows(platform: Any, sta: Sta,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    ds = _stream(sta)
    stray = sta.observe(ds, 7, "2031-06-15T00:00:00Z")["@iot.id"]
    assert _where(platform, stray) == P.DEFAULT  # no partition covers 2031 yet: the DEFAULT one takes it
    when = datetime(2031, 5, 20, tzinfo=UTC)
    with caplog.at_level("INFO", logger="urbanos.sensing"):
        made = P.maintain(platform.db, months=1, ahead=2, now=when)
    assert made == ["sta_observations_p20310501", "sta_observations_p20310601", "sta_observations_p20310701"]
    assert any(r.getMessage() == "observation partition created" for r in caplog.records)
    assert P.maintain(platform.db, months=1, ahead=2, now=when) == []  # done already
    assert _where(platform, stray) == "sta_observations_p20310601"  # moved out of DEFAULT into its partition
    assert sta.ok(f"/Observations({stray})")["result"] == 7
    # a wider width later fills the gaps between what exists: April, then August (clipped) and the next quarter
    assert P.maintain(platform.db, months=3, ahead=2, now=when) == [
        "sta_observations_p20310401", "sta_observations_p20310801", "sta_observations_p20311001"]


@pytest.mark.postgres
def test_maintenance_runs_in_one_process_at_a_time(platform: Any) -> None:
    import psycopg

    when = datetime(2033, 1, 5, tzinfo=UTC)
    with psycopg.connect(str(platform.settings.db)) as other:
        other.execute(P.LOCK.replace("pg_try_advisory_xact_lock", "pg_advisory_xact_lock"))  # held until it ends
        assert P.maintain(platform.db, months=1, ahead=0, now=when) == []  # another process is at it: nothing
        other.rollback()
    assert P.maintain(platform.db, months=1, ahead=0, now=when) == ["sta_observations_p20330101"]


def test_far_times_are_stored_and_read_back(sta: Sta, platform: Any) -> None:
    ds = _stream(sta)
    old = sta.observe(ds, 1, "1900-01-01T00:00:00Z")["@iot.id"]
    future = sta.observe(ds, 2, "2300-01-01T00:00:00Z")["@iot.id"]
    if platform.db.dialect.name == "postgresql":
        assert _where(platform, old) == _where(platform, future) == P.DEFAULT
    got = sta.ok(f"/Datastreams({ds})/Observations?$filter=phenomenonTime lt 1950-01-01T00:00:00Z")["value"]
    assert [o["@iot.id"] for o in got] == [old]
    assert _latest(sta, ds) == ["2300-01-01T00:00:00Z"]


def test_a_patch_moves_an_observation_across_partitions(sta: Sta, platform: Any) -> None:
    ds = _stream(sta)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = sta.observe(ds, 1, "2020-03-01T00:00:00Z")["@iot.id"]
    moved = sta.observe(ds, 2, now)["@iot.id"]
    assert _latest(sta, ds) == [now]
    before = _where(platform, moved) if platform.db.dialect.name == "postgresql" else None
    r = sta.patch(f"/Observations({moved})", {"phenomenonTime": "1990-01-01T00:00:00Z"})
    assert r.status_code == 200, r.text
    if before is not None:
        assert before != P.DEFAULT and _where(platform, moved) == P.DEFAULT
    assert sta.ok(f"/Observations({moved})")["phenomenonTime"] == "1990-01-01T00:00:00Z"
    assert _latest(sta, ds) == ["2020-03-01T00:00:00Z"]  # the pointer follows the move
    assert sta.ok(f"/Datastreams({ds})")["phenomenonTime"] == "1990-01-01T00:00:00Z/2020-03-01T00:00:00Z"
    assert sta.delete(f"/Observations({first})").status_code == 200
    assert _latest(sta, ds) == ["1990-01-01T00:00:00Z"]


def _dataset(c: Any, name: str) -> int:
    ts = "2024-01-01T00:00:00.000000Z"
    if c.fetchone("SELECT 1 FROM organizations WHERE name = 'parts'") is None:
        c.execute("INSERT INTO organizations (name, title, created_at) VALUES ('parts', 'Parts', ?)", (ts,))
    return int(c.insert("datasets", {"name": name, "title": name, "owner_org": "parts", "access_level": "open",
                                     "created_at": ts, "modified_at": ts}))


def _files(platform: Any) -> dict[str, int]:
    """Each partition's file (a TRUNCATE gives a partition a new one; a DELETE does not)."""
    return {str(n): int(f) for n, f in platform.db.read_sync(lambda c: c.fetchall(
        "SELECT k.relname, k.relfilenode FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid"
        " WHERE i.inhparent = 'sta_observations'::regclass"))}


def test_retention_empties_a_partition_of_the_dataset_and_keeps_a_shared_one(sta: Sta, platform: Any) -> None:
    pg = platform.db.dialect.name == "postgresql"
    mine, other = _stream(sta, "Mine"), _stream(sta, "Other")
    ids = platform.db.write_sync(lambda c: (_dataset(c, "mine"), _dataset(c, "other")))
    for ds, dataset in ((mine, ids[0]), (other, ids[1])):
        platform.db.write_sync(lambda c, ds=ds, dataset=dataset: c.execute(
            "UPDATE sta_datastreams SET dataset_id = ? WHERE id = ?", (dataset, ds)))
    if pg:  # two quarters of 2020; rows posted before would sit in DEFAULT
        platform.db.write_sync(lambda c: P.ensure_range(c, "2020-01-01T00:00:00.000000Z",
                                                        "2020-07-01T00:00:00.000000Z", 3))
    for t in ("2020-01-10", "2020-02-10", "2020-05-10", "2021-01-10"):
        sta.observe(mine, t, f"{t}T00:00:00Z")
    kept = sta.observe(other, "kept", "2020-05-11T00:00:00Z")["@iot.id"]
    q1, q2 = P.PREFIX + "20200101", P.PREFIX + "20200401"
    files = _files(platform) if pg else {}
    port = platform.require(SensingPort)
    n = platform.db.write_sync(lambda c: port.purge_observations(c, ids[0], "2020-07-01T00:00:00.000000Z"))
    assert n == 3
    if pg:
        after = _files(platform)
        assert after[q1] != files[q1]  # the dataset's rows only: emptied at once (TRUNCATE)
        assert after[q2] == files[q2]  # shared with the other dataset: its rows deleted one by one
        assert _where(platform, kept) == q2
    assert [o["result"] for o in sta.ok(f"/Datastreams({mine})/Observations")["value"]] == ["2021-01-10"]
    assert [o["@iot.id"] for o in sta.ok(f"/Datastreams({other})/Observations")["value"]] == [kept]
    assert sta.ok(f"/Datastreams({mine})")["phenomenonTime"] == "2021-01-10T00:00:00Z/2021-01-10T00:00:00Z"
    assert _latest(sta, mine) == ["2021-01-10T00:00:00Z"]
    # the other dataset's purge: its partition holds its rows only by now; the empty one is left alone
    files = _files(platform) if pg else {}
    assert platform.db.write_sync(lambda c: port.purge_observations(c, ids[1], "2020-07-01T00:00:00.000000Z")) == 1
    if pg:
        after = _files(platform)
        assert after[q1] == files[q1] and after[q2] != files[q2]
    assert sta.ok(f"/Datastreams({other})/Observations")["value"] == []
    assert len(sta.ok(f"/Datastreams({mine})/Observations")["value"]) == 1


@pytest.mark.postgres
def test_retention_never_empties_a_partition_under_another_datasets_insert(sta: Sta, platform: Any) -> None:
    """A row of another dataset inserted into the old partition while the purge runs (committed after the purge
    looked, before it emptied the partition) is kept: the purge locks the partition before it looks."""
    import threading
    import time

    import psycopg

    mine, other = _stream(sta, "Mine"), _stream(sta, "Other")
    ids = platform.db.write_sync(lambda c: (_dataset(c, "mine-race"), _dataset(c, "other-race")))
    for ds, dataset in ((mine, ids[0]), (other, ids[1])):
        platform.db.write_sync(lambda c, ds=ds, dataset=dataset: c.execute(
            "UPDATE sta_datastreams SET dataset_id = ? WHERE id = ?", (dataset, ds)))
    platform.db.write_sync(lambda c: P.ensure_range(c, "2020-01-01T00:00:00.000000Z", "2020-04-01T00:00:00.000000Z", 3))
    sta.observe(mine, "old", "2020-01-10T00:00:00Z")
    feature = sta.ok(f"/Observations({sta.observe(other, 'new', '2021-01-10T00:00:00Z')['@iot.id']})/FeatureOfInterest")
    port = platform.require(SensingPort)
    with psycopg.connect(str(platform.settings.db)) as writer:  # another dataset's backdated row, not yet committed
        late = writer.execute(
            "INSERT INTO sta_observations (phen_start, result, datastream_id, feature_id) VALUES"
            " ('2020-02-01T00:00:00.000000Z', '\"late\"', %s, %s) RETURNING id", (other, feature["@iot.id"])).fetchone()[0]
        done: list[int] = []
        purge = threading.Thread(target=lambda: done.append(platform.db.write_sync(
            lambda c: port.purge_observations(c, ids[0], "2020-07-01T00:00:00.000000Z"))))
        purge.start()
        time.sleep(0.6)  # the purge is waiting for the partition
        writer.commit()
        purge.join(timeout=30)
    assert done == [1]
    assert sta.ok(f"/Observations({late})")["result"] == "late"
    assert [o["result"] for o in sta.ok(f"/Datastreams({mine})/Observations")["value"]] == []


@pytest.mark.postgres
def test_retention_deletes_row_by_row_when_the_partition_stays_busy(sta: Sta, platform: Any) -> None:
    import psycopg

    mine = _stream(sta, "Busy")
    dataset = platform.db.write_sync(lambda c: _dataset(c, "busy"))
    platform.db.write_sync(lambda c: c.execute("UPDATE sta_datastreams SET dataset_id = ? WHERE id = ?", (dataset, mine)))
    platform.db.write_sync(lambda c: P.ensure_range(c, "2019-01-01T00:00:00.000000Z", "2019-04-01T00:00:00.000000Z", 3))
    sta.observe(mine, "old", "2019-01-10T00:00:00Z")
    q = P.PREFIX + "20190101"
    files = _files(platform)
    port = platform.require(SensingPort)
    with psycopg.connect(str(platform.settings.db)) as reader:  # a long read holds the partition
        reader.execute(f"LOCK TABLE {q} IN ACCESS SHARE MODE")
        n = platform.db.write_sync(lambda c: port.purge_observations(c, dataset, "2019-07-01T00:00:00.000000Z"))
        reader.rollback()
    assert n == 1 and _files(platform)[q] == files[q]  # deleted, not emptied: the purge did not wait for the read
    assert sta.ok(f"/Datastreams({mine})/Observations")["value"] == []
