"""The BigQuery engine against bqemulator (official client): CTAS, extract to Avro, delete."""

from __future__ import annotations

import contextlib
import json

import pytest
import taar_common.summary
from conftest import DAY
from taar_common.hashing import hash_client_id

DATE = DAY.strftime("%Y%m%d")


@pytest.fixture(autouse=True)
def no_stage_lease(monkeypatch):
    """bqemulator's Avro "bucket" is a local folder: there is no GCS here to hold the stage lease on
    (the lease has its own tests)."""
    monkeypatch.setattr(taar_common.summary, "hold_lease", lambda *args, **kwargs: contextlib.nullcontext())


SOURCE = """
CREATE OR REPLACE TABLE `{table}` AS
SELECT * FROM UNNEST([
  STRUCT(DATE '2026-11-27' AS submission_date, 'c1' AS client_id, 'Berlin' AS city, 'de' AS locale, 'Linux' AS os,
    1.5 AS subsession_hours_sum, 3.0 AS places_bookmarks_count_mean,
    4 AS scalar_parent_browser_engagement_tab_open_event_count_sum,
    40 AS scalar_parent_browser_engagement_total_uri_count_sum,
    6.0 AS scalar_parent_browser_engagement_unique_domains_count_mean,
    ARRAY<STRUCT<addon_id STRING, user_disabled BOOL, app_disabled BOOL, is_system BOOL>>[
      STRUCT('keep@x', FALSE, FALSE, FALSE), STRUCT('off@x', TRUE, FALSE, TRUE)] AS active_addons),
  STRUCT(DATE '2026-11-27', NULL, 'Paris', 'fr', 'Linux', 1.0, 1.0, 1, 1, 1.0,
    [STRUCT('keep@x' AS addon_id, FALSE AS user_disabled, FALSE AS app_disabled, FALSE AS is_system)]),
  STRUCT(DATE '2026-11-27', 'c3', 'Lagos', 'en', 'Windows_NT', NULL, NULL, NULL, NULL, NULL,
    [STRUCT('app@x' AS addon_id, NULL AS user_disabled, TRUE AS app_disabled, FALSE AS is_system)]),
  STRUCT(DATE '2026-11-27', 'c4', 'Rome', 'it', 'Darwin', 1.0, 1.0, 1, 1, 1.0,
    ARRAY<STRUCT<addon_id STRING, user_disabled BOOL, app_disabled BOOL, is_system BOOL>>[]),
  STRUCT(DATE '2026-11-26', 'c5', 'Oslo', 'nb', 'Linux', 1.0, 1.0, 1, 1, 1.0,
    [STRUCT('keep@x' AS addon_id, FALSE AS user_disabled, FALSE AS app_disabled, FALSE AS is_system)])
])
"""

DELETIONS = """
CREATE OR REPLACE TABLE `{table}` AS
SELECT * FROM UNNEST([
  STRUCT('c1' AS client_id, TIMESTAMP '2026-11-25 08:00:00+00' AS submission_timestamp),
  STRUCT('c3', TIMESTAMP '2026-11-01 08:00:00+00')
])
"""


@pytest.fixture
def bigquery(bigquery_emulator, monkeypatch):
    """The emulator with telemetry tables; the job's client finds it via BIGQUERY_EMULATOR_HOST."""
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", bigquery_emulator.url)
    client = bigquery_emulator.client()
    project = bigquery_emulator.project
    for dataset in ("telemetry", "taar_tmp"):
        client.create_dataset(f"{project}.{dataset}", exists_ok=True)
    client.query(SOURCE.format(table=f"{project}.telemetry.clients_last_seen")).result(timeout=60)
    client.query(DELETIONS.format(table=f"{project}.telemetry.deletion_request")).result(timeout=60)
    return bigquery_emulator


def test_bigquery_engine_fills_exports_loads_and_deletes(run_cli, tmp_path, bigquery):
    project = bigquery.project
    engine = (
        "--engine", "bigquery", "--gcp-project", project, "--iso-date", DATE, "--sample-rate", "1",
        "--source", f"{project}.telemetry.clients_last_seen",
        "--deletion-source", f"{project}.telemetry.deletion_request",
    )  # fmt: skip
    _, filled = run_cli("--fill-bq", *engine)
    assert filled["counts"] == {
        "source_rows": 4,
        "null_client_id_rows_dropped": 1,
        "duplicate_rows_dropped": 0,
        "profiles": 2,
    }

    bucket_dir = bigquery.bucket_dir("taar-avro-bq")
    _, exported = run_cli("--bq-to-gcs", *engine, "--avro-gcs-bucket", "gs://taar-avro-bq")
    assert exported["artifacts"] == [f"gs://taar-avro-bq/taar-profile.{DATE}.avro.*"]
    assert exported["counts"] == {"avro_files": 1, "rows": 2}

    local = ("--avro-gcs-bucket", str(bucket_dir), "--sink", "local")
    _, loaded = run_cli("--gcs-to-bigtable", *engine, *local)
    assert loaded["counts"]["rows_written"] == 2

    result, _ = run_cli("get", "--client-id", "c1", "--sink", "local")
    c1 = json.loads(result.stdout)
    assert {k: v for k, v in c1.items() if k != "active_addons"} == {
        "client_id": hash_client_id("c1"),
        "city": "Berlin",
        "locale": "de",
        "os": "Linux",
        "subsession_length": 5400,
        "places_bookmarks_count": 3.0,
        "scalar_parent_browser_engagement_tab_open_event_count": 4,
        "scalar_parent_browser_engagement_total_uri_count": 40,
        "scalar_parent_browser_engagement_unique_domains_count": 6.0,
        "disabled_addons_ids": ["off@x"],
    }
    assert [(a["addon_id"], a["is_system"]) for a in c1["active_addons"]] == [("keep@x", False), ("off@x", True)]
    result, _ = run_cli("get", "--client-id", "c3", "--sink", "local")
    c3 = json.loads(result.stdout)
    assert (c3["subsession_length"], c3["places_bookmarks_count"], c3["disabled_addons_ids"]) == (0, 0, ["app@x"])

    _, deleted = run_cli("--delete-opt-out", "--delete-days", "7", *engine, "--sink", "local")
    assert deleted["counts"] == {"deletion_requests": 1, "rows_deleted": 1}
    run_cli("get", "--client-id", "c1", "--sink", "local", expect_exit=1)

    _, dropped = run_cli("--wipe-bigquery-tmp-table", *engine)
    assert dropped["counts"] == {"tables_dropped": 1}
    _, missing = run_cli("--bq-to-gcs", *engine, "--avro-gcs-bucket", "gs://taar-avro-bq", expect_exit=1)
    assert f"{project}.taar_tmp.taar_tmp_profile not found" in missing["error"]


def test_bigquery_engine_names_a_missing_dataset_or_table(run_cli, bigquery):
    project = bigquery.project
    engine = ("--engine", "bigquery", "--gcp-project", project, "--iso-date", DATE)
    _, summary = run_cli("--fill-bq", *engine, "--bigquery-dataset-id", "no_such_dataset", expect_exit=1)
    assert f"dataset {project}.no_such_dataset not found" in summary["error"]
    _, summary = run_cli("--fill-bq", *engine, "--source", f"{project}.telemetry.no_such_table", expect_exit=1)
    assert "no_such_table" in summary["error"]


DUPLICATES = """
CREATE OR REPLACE TABLE `{table}` AS
SELECT * FROM UNNEST([
  STRUCT(DATE '2026-11-27' AS submission_date, 'dup' AS client_id, 'Oslo' AS city, 'nb' AS locale, 'Linux' AS os,
    9.0 AS subsession_hours_sum, 1.0 AS places_bookmarks_count_mean,
    1 AS scalar_parent_browser_engagement_tab_open_event_count_sum,
    1 AS scalar_parent_browser_engagement_total_uri_count_sum,
    1.0 AS scalar_parent_browser_engagement_unique_domains_count_mean,
    ARRAY<STRUCT<addon_id STRING, user_disabled BOOL, app_disabled BOOL, is_system BOOL>>[] AS active_addons),
  STRUCT(DATE '2026-11-27', 'dup', NULL, 'nb', 'Linux', 8.0, 1.0, 1, 1, 1.0,
    [STRUCT('b@x' AS addon_id, FALSE AS user_disabled, FALSE AS app_disabled, FALSE AS is_system)]),
  STRUCT(DATE '2026-11-27', 'dup', 'Rome', 'it', 'Darwin', 2.0, 1.0, 1, 1, 1.0,
    [STRUCT('a@x' AS addon_id, FALSE AS user_disabled, FALSE AS app_disabled, FALSE AS is_system)]),
  STRUCT(DATE '2026-11-27', 'dup', 'Rome', 'it', 'Darwin', 1.0, 1.0, 1, 1, 1.0,
    [STRUCT('a@x' AS addon_id, FALSE AS user_disabled, FALSE AS app_disabled, FALSE AS is_system)]),
  STRUCT(DATE '2026-11-27', 'nulls', NULL, NULL, NULL, 1.0, 1.0, 1, 1, 1.0,
    [STRUCT('a@x' AS addon_id, FALSE AS user_disabled, FALSE AS app_disabled, FALSE AS is_system)])
])
"""


def test_bigquery_engine_keeps_one_row_per_client_and_empty_strings_for_null_texts(run_cli, bigquery):
    project = bigquery.project
    client = bigquery.client()
    source = f"{project}.telemetry.clients_last_seen_dups"
    client.query(DUPLICATES.format(table=source)).result(timeout=60)
    engine = ("--engine", "bigquery", "--gcp-project", project, "--iso-date", DATE, "--sample-rate", "1")
    _, filled = run_cli("--fill-bq", *engine, "--source", source, "--bigquery-table-id", "taar_tmp_dups")
    assert filled["counts"]["duplicate_rows_dropped"] == 3 and filled["counts"]["profiles"] == 2
    rows = client.query(
        f"SELECT client_id, city, locale, os, subsession_length FROM `{project}.taar_tmp.taar_tmp_dups`"
    ).result(timeout=60)
    assert sorted(tuple(row.values()) for row in rows) == sorted(
        [(hash_client_id("dup"), "Rome", "it", "Darwin", 7200), (hash_client_id("nulls"), "", "", "", 3600)]
    )
