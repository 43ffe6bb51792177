"""The lite transforms on small hand-made rows with exact expected outputs."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from taar_fixtures.handmade import addon, client, invalid_addons
from taar_spark_lite import transform
from taar_testing.handmade_inputs import clients_daily_frame

DAY = dt.date(2026, 11, 27)
WHITELIST = ["a@x", "b@x", "c@x", "d@x"]


@pytest.fixture(scope="module")
def day_frame(spark, tmp_path_factory):
    """One partition with every kind of dirty row the contract names."""
    rows = [
        client("c1", [addon("a@x"), addon("b@x"), addon("c@x")]),
        client("c1", [addon("d@x"), addon("a@x")]),  # a second row of c1 the same day
        client("c2", [addon("a@x"), addon("b@x"), addon("a@x")]),  # duplicate id
        client("c3", [addon("a@x"), addon("x@x"), addon("b@x", user_disabled=True)]),
        client(
            "c8",
            [
                addon("a@x"),
                addon(None),
                addon("c@x", blocklisted=None, is_system=None, foreign_install=None, user_disabled=None),
                *invalid_addons(),
            ],
        ),
        client(None, [addon("a@x"), addon("b@x")]),
        client("c5", [addon("a@x"), addon("b@x")], channel="beta"),
        client("c9", [addon("a@x"), addon("b@x")], app_name="Fennec"),
        client("c10", [addon("a@x"), addon("b@x")], channel=None),
        client("c6", None),
        client("c7", []),
    ]
    return clients_daily_frame(spark, tmp_path_factory.mktemp("clients_daily"), {DAY: rows})


def day_counts(day_frame, whitelist=WHITELIST) -> list:
    """The collected `counts_by_guid` rows of the day's release clients."""
    per_client = transform.client_addons(transform.release_clients(day_frame), whitelist)
    return transform.counts_by_guid(transform.addon_counts(per_client)).collect()


def coinstallation(rows: list) -> dict:
    return transform.artifact_dicts(rows)[0]


def ranking(rows: list) -> dict:
    return transform.artifact_dicts(rows)[1]


def test_coinstallation_counts_valid_whitelisted_pairs_once_per_client(day_frame):
    assert coinstallation(day_counts(day_frame)) == {
        "a@x": {"b@x": 2, "c@x": 2, "d@x": 1},
        "b@x": {"a@x": 2, "c@x": 1, "d@x": 1},
        "c@x": {"a@x": 2, "b@x": 1, "d@x": 1},
        "d@x": {"a@x": 1, "b@x": 1, "c@x": 1},
    }


def read_schema(frame) -> str:
    """The Parquet columns (and nested fields) the physical plan of `frame` reads."""
    frame.sparkSession.conf.set("spark.sql.maxMetadataStringLength", "10000")
    plan = frame._jdf.queryExecution().executedPlan().toString()
    return next(line for line in plan.splitlines() if "ReadSchema:" in line).split("ReadSchema:", 1)[1]


def test_the_validity_rule_reads_only_the_addon_fields_it_needs(day_frame):
    schema = read_schema(transform.client_addons(transform.release_clients(day_frame), WHITELIST))
    assert "addon_id:string" in schema and "foreign_install:boolean" in schema
    addon_fields = schema.split("active_addons:", 1)[1]
    assert not any(f"{unused}:" in addon_fields for unused in ("name", "version", "install_day"))


def test_install_ranking_counts_every_id_once_per_release_client(day_frame):
    assert ranking(day_counts(day_frame)) == {
        "a@x": 4,
        "b@x": 4,  # blocklisted on c8: the ranking applies no validity filter
        "c@x": 2,
        "d@x": 1,
        "f@x": 1,
        "pioneer-opt-in@mozilla.org": 1,
        "s@x": 1,
        "t@x": 1,
        "u@x": 1,
        "x@x": 1,
    }


def test_an_empty_whitelist_ranks_every_add_on_and_pairs_none(day_frame):
    rows = day_counts(day_frame, whitelist=[])
    assert coinstallation(rows) == {}
    assert ranking(rows) == ranking(day_counts(day_frame))


def test_the_day_is_read_once_for_both_artifacts(day_frame):
    per_client = transform.client_addons(transform.release_clients(day_frame), WHITELIST)
    plan = transform.counts_by_guid(transform.addon_counts(per_client))._jdf.queryExecution().executedPlan().toString()
    assert plan.count("FileScan parquet") == 1, plan


def test_sampling_is_seeded_and_keeps_whole_clients(spark):
    frame = spark.range(2000).selectExpr("cast(id % 1000 as string) as client_id", "id")
    first = transform.sample_clients(frame, 0.3, seed=7)
    again = transform.sample_clients(frame.repartition(3), 0.3, seed=7)
    other = transform.sample_clients(frame, 0.3, seed=8)
    got = {(r.client_id, r.id) for r in first.collect()}
    assert got == {(r.client_id, r.id) for r in again.collect()}
    assert got != {(r.client_id, r.id) for r in other.collect()}
    clients = {c for c, _ in got}
    assert 240 < len(clients) < 360
    assert len(got) == 2 * len(clients)  # both rows of each kept client
    assert transform.sample_clients(frame, 1.0, seed=7) is frame


def test_both_artifacts_come_from_one_pass_over_streamed_rows(day_frame):
    rows = sorted(day_counts(day_frame), key=lambda row: row["guid"], reverse=True)
    streamed = transform.artifact_dicts(iter(rows))  # an iterator is consumed by the first pass
    assert streamed == transform.artifact_dicts(rows[::-1])
    assert list(streamed[0]) == sorted(streamed[0]) and list(streamed[1]) == sorted(streamed[1])


def test_each_pair_is_counted_once_and_mirrored_per_guid(day_frame):
    per_client = transform.client_addons(transform.release_clients(day_frame), WHITELIST)
    pairs = [r for r in transform.addon_counts(per_client).collect() if r["other_guid"] is not None]
    assert pairs and all(r["guid"] < r["other_guid"] for r in pairs)
    assert len(pairs) * 2 == sum(len(others) for others in coinstallation(day_counts(day_frame)).values())


@contextmanager
def sql_config(spark):
    """`transform.SQL_CONFIG` set on the session for the block (the session is shared)."""
    before = {key: spark.conf.get(key) for key in transform.SQL_CONFIG}
    try:
        for key, value in transform.SQL_CONFIG.items():
            spark.conf.set(key, value)
        yield
    finally:
        for key, value in before.items():
            spark.conf.set(key, value)


def test_clients_are_folded_in_one_sort_based_pass_with_the_sql_config(day_frame):
    with sql_config(day_frame.sparkSession):
        per_client = transform.client_addons(transform.release_clients(day_frame), WHITELIST)
        per_client.collect()  # the adaptive plan is final once run
        plan = per_client._jdf.queryExecution().executedPlan().toString()
    assert "SortAggregate" in plan and "HashAggregate" not in plan, plan


def test_the_cached_rows_per_guid_come_in_merged_partitions_with_the_sql_config(day_frame):
    shuffle_partitions = int(day_frame.sparkSession.conf.get("spark.sql.shuffle.partitions"))
    with sql_config(day_frame.sparkSession):
        by_guid = transform.counts_by_guid(transform.addon_counts(transform.client_addons(day_frame, WHITELIST)))
        by_guid = by_guid.persist()
        try:
            assert by_guid.count() > 0
            partitions = by_guid.rdd.getNumPartitions()
        finally:
            by_guid.unpersist()
    assert partitions < shuffle_partitions
