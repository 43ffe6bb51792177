"""What an operator typo or a hostile option can do: ids are checked at parse time, one profile per client."""

from __future__ import annotations

import duckdb
import pytest
from conftest import DAY, addon, client_row, generated_rows, write_clients_last_seen
from taar_common.hashing import hash_client_id
from taar_common.lease import Lease, lease_url
from taar_common.storage import Storage
from taar_profile_bigtable import identifiers, queries
from taar_profile_bigtable.job import STAGES
from taar_profile_bigtable.warehouses import DuckDBWarehouse

DATE = DAY.strftime("%Y%m%d")
INJECTION = "taar_tmp_profile; CREATE TABLE main.injected AS SELECT 42 AS x; --"


def duckdb_tables(path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            f"{s}.{t}"
            for s, t in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        }


@pytest.mark.parametrize("stage", STAGES)
def test_injected_table_id_is_refused_at_parse_time_by_every_stage(run_cli, tmp_path, stage):
    write_clients_last_seen(tmp_path / "taar-data" / "telemetry", generated_rows(5))
    run_cli("--fill-bq", "--iso-date", DATE, "--sample-rate", "1")
    database = tmp_path / "taar-data" / "bigquery.duckdb"
    before = duckdb_tables(database)

    flag = "--" + stage.replace("_", "-")
    result, summary = run_cli(flag, "--iso-date", DATE, "--bigquery-table-id", INJECTION, expect_exit=2)
    assert summary is None  # refused before any run started
    assert "Invalid value for '--bigquery-table-id'" in result.stderr and "injected" in result.stderr
    assert duckdb_tables(database) == before
    assert "main.injected" not in before


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--bigquery-dataset-id", 'taar_tmp"; DROP SCHEMA main; --'),
        ("--bigquery-dataset-id", "taar-tmp"),
        ("--gcp-project", "Proj; x"),
        ("--gcp-project", "abc"),
        ("--bigtable-instance-id", "taar_local"),
        ("--bigtable-table-id", "../other"),
        ("--bigtable-table-id", "t" * 51),
    ],
)
def test_ids_breaking_the_services_naming_rules_are_refused(run_cli, option, value):
    result, summary = run_cli("--gcs-to-bigtable", "--iso-date", DATE, option, value, expect_exit=2)
    assert summary is None and f"Invalid value for '{option}'" in result.stderr


@pytest.mark.parametrize("stage", ["--bq-to-gcs", "--gcs-to-bigtable", "--wipe-avro"])
def test_bad_avro_bucket_is_refused_at_parse_time_with_its_credentials_masked(run_cli, stage):
    bucket = "ftp://user:hunter2pass@host/x"
    result, summary = run_cli(stage, "--iso-date", DATE, "--avro-gcs-bucket", bucket, expect_exit=2)
    assert summary is None and "Invalid value for '--avro-gcs-bucket'" in result.stderr
    assert "host/x" in result.stderr and "hunter2pass" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_bigquery_source_tables_are_checked_before_any_query(run_cli):
    bad = "moz-fx-data-shared-prod.telemetry.clients_last_seen` WHERE TRUE; --"
    result, _ = run_cli("--fill-bq", "--engine", "bigquery", "--iso-date", DATE, "--source", bad, expect_exit=2)
    assert "Invalid value for --source" in result.stderr


def test_valid_ids_pass_the_naming_rules():
    assert identifiers.gcp_project_id("moz-fx-data-taar-pr-prod-e0f7")
    assert identifiers.bigquery_dataset_id("taar_tmp")
    assert identifiers.bigquery_table_id("table 01") and identifiers.bigquery_table_id("étudiant-01")
    assert identifiers.bigquery_table_reference("moz-fx-data-shared-prod.telemetry.clients_last_seen")
    assert identifiers.bigtable_instance_id("taar-prod")
    assert identifiers.bigtable_table_id("taar_profile")


def test_sql_quoting_refuses_what_could_close_the_quotes():
    with pytest.raises(ValueError, match="cannot be quoted"):
        queries.render("source_stats", source_table="a.b.c` x")
    assert "FROM `p-roject.d.t`" in queries.render("source_stats", source_table="p-roject.d.t")


def duplicate_rows() -> list[dict]:
    """Client `dup` three times on the day (add-on-less, incomplete, complete); `other` once."""
    return [
        client_row("dup", city="Oslo", active_addons=[]),
        client_row("dup", city=None, subsession_hours_sum=9.0, active_addons=[addon("b@x")]),
        client_row("dup", city="Rome", subsession_hours_sum=2.0, active_addons=[addon("a@x")]),
        client_row("dup", city="Rome", subsession_hours_sum=1.0, active_addons=[addon("a@x")]),
        client_row("other"),
    ]


@pytest.mark.parametrize("order", ["as_written", "reversed", "split"])
def test_one_profile_per_client_chosen_by_content_not_by_row_order(tmp_path, order):
    rows = duplicate_rows()
    if order == "reversed":
        rows = rows[::-1]
    source = write_clients_last_seen(tmp_path, rows, parts=3 if order == "split" else 1)
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", "taar_tmp", "profiles", str(source), str(tmp_path / "none"))
    try:
        result = warehouse.fill_profiles(DAY, sample_rate=1.0)
        got = warehouse._con.execute("SELECT client_id, city, subsession_length FROM taar_tmp.profiles").fetchall()
    finally:
        warehouse.close()
    assert (result.source_rows, result.duplicate_client_id_rows, result.profiles) == (5, 3, 2)
    # with add-ons > most complete texts > most activity
    assert sorted(got) == sorted([(hash_client_id("dup"), "Rome", 7200), (hash_client_id("other"), "Paris", 3600)])


@pytest.mark.parametrize("order", ["as_written", "reversed", "split"])
def test_rows_differing_only_inside_an_addon_entry_pick_the_same_profile(tmp_path, order):
    rows = [
        client_row("dup", active_addons=[addon("a@x", user_disabled=True)]),
        client_row("dup", active_addons=[addon("a@x", user_disabled=False)]),
    ]
    source = write_clients_last_seen(
        tmp_path, rows[::-1] if order == "reversed" else rows, parts=2 if order == "split" else 1
    )
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", "taar_tmp", "profiles", str(source), str(tmp_path / "none"))
    try:
        warehouse.fill_profiles(DAY, sample_rate=1.0)
        got = warehouse._con.execute("SELECT disabled_addons_ids FROM taar_tmp.profiles").fetchall()
    finally:
        warehouse.close()
    assert got == [([],)]  # '{"addon_id":"a@x",...,"user_disabled":false}' sorts first


def test_duplicates_are_counted_and_loaded_once_end_to_end(run_cli, tmp_path):
    write_clients_last_seen(tmp_path / "taar-data" / "telemetry", duplicate_rows(), parts=2)
    _, filled = run_cli("--fill-bq", "--iso-date", DATE, "--sample-rate", "1")
    assert filled["counts"]["duplicate_rows_dropped"] == 3 and filled["counts"]["profiles"] == 2
    run_cli("--bq-to-gcs", "--iso-date", DATE)
    _, loaded = run_cli("--gcs-to-bigtable", "--iso-date", DATE)
    assert loaded["counts"]["rows_written"] == 2


def test_null_city_locale_os_reach_the_payload_as_empty_strings(run_cli, tmp_path):
    import json

    write_clients_last_seen(
        tmp_path / "taar-data" / "telemetry", [client_row("nulls", city=None, locale=None, os=None)]
    )
    for flag in ("--fill-bq", "--bq-to-gcs", "--gcs-to-bigtable"):
        run_cli(flag, "--iso-date", DATE, "--sample-rate", "1")
    result, _ = run_cli("get", "--client-id", "nulls")
    payload = json.loads(result.stdout)
    assert (payload["city"], payload["locale"], payload["os"]) == ("", "", "")


def test_a_stage_already_running_refuses_a_second_run_of_it_naming_the_holder(run_cli, tmp_path):
    """One run at a time per stage (the lease beside the Avro files); other stages are not held up."""
    write_clients_last_seen(tmp_path / "taar-data" / "telemetry", generated_rows(5))
    avro = str(tmp_path / "avro")
    fill = ("--fill-bq", "--iso-date", DATE, "--sample-rate", "1", "--avro-gcs-bucket", avro)
    name = "profile_bigtable-fill_bq"
    with Lease(Storage(), lease_url(avro, "", name), name) as held:
        _, summary = run_cli(*fill, expect_exit=1)
        assert "another run holds" in summary["error"] and f"run_id={held.run_id}" in summary["error"]
        run_cli("--wipe-avro", "--iso-date", DATE, "--avro-gcs-bucket", avro)
    _, summary = run_cli(*fill)
    assert summary["status"] == "ok" and not Storage().exists(lease_url(avro, "", name))
