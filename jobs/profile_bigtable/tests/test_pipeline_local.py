"""DuckDB engine end to end into the local sink, through the CLI, on every storage backend."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from conftest import DAY, addon, client_row, generated_rows, write_clients_last_seen, write_deletion_requests
from taar_common.hashing import hash_client_id
from taar_common.storage import Storage
from taar_profile_bigtable import avro_files
from taar_profile_bigtable.sinks import LocalSink

DATE = DAY.strftime("%Y%m%d")


@pytest.fixture(autouse=True)
def no_bigtable_emulator(monkeypatch):
    """These runs use the embedded default sink, even after a cbtemulator test set the env."""
    monkeypatch.delenv("BIGTABLE_EMULATOR_HOST", raising=False)


STORE = Path("taar-data/bigtable/profiles.sqlite3")


def stage(run_cli, flag, *extra, expect_exit=0):
    return run_cli(flag, "--iso-date", DATE, "--sample-rate", "1", *extra, expect_exit=expect_exit)


def test_every_stage_runs_locally_with_only_the_stage_and_date(run_cli, tmp_path):
    rows = generated_rows(40) + [client_row(None), client_row("no-addons", active_addons=[])]
    write_clients_last_seen(tmp_path / "taar-data" / "telemetry", rows, parts=2)

    _, filled = stage(run_cli, "--fill-bq")
    assert filled["counts"] == {
        "source_rows": 42,
        "null_client_id_rows_dropped": 1,
        "duplicate_rows_dropped": 0,
        "profiles": 40,
    }
    _, exported = stage(run_cli, "--bq-to-gcs")
    assert exported["counts"] == {"avro_files": 1, "rows": 40}
    assert exported["artifacts"] == [
        str(tmp_path / f"taar-data/taar-profile-avro/taar-profile.{DATE}.avro.000000000000")
    ]
    _, loaded = stage(run_cli, "--gcs-to-bigtable")
    assert loaded["counts"]["rows_written"] == 40
    assert loaded["counts"]["table_created"] == 1

    sink = LocalSink(tmp_path / STORE, "taar_profile")
    assert sink.count_rows() == 40
    sink.close()

    first = rows[0]
    result, _ = run_cli("get", "--client-id", first["client_id"])
    profile = json.loads(result.stdout)
    assert profile["client_id"] == hash_client_id(first["client_id"])
    assert profile["subsession_length"] == round(first["subsession_hours_sum"] * 3600)
    assert [a["addon_id"] for a in profile["active_addons"]] == [a["addon_id"] for a in first["active_addons"]]
    assert profile["disabled_addons_ids"] == [a["addon_id"] for a in first["active_addons"] if a["user_disabled"]]

    _, wiped = stage(run_cli, "--wipe-avro")
    assert wiped["counts"] == {"avro_files_deleted": 1}
    _, dropped = stage(run_cli, "--wipe-bigquery-tmp-table")
    assert dropped["counts"] == {"tables_dropped": 1}
    _, again = stage(run_cli, "--wipe-bigquery-tmp-table")
    assert again["counts"] == {"tables_dropped": 0}


def test_no_raw_client_id_reaches_avro_store_or_logs(run_cli, tmp_path):
    rows = generated_rows(25, seed=3)
    write_clients_last_seen(tmp_path / "taar-data" / "telemetry", rows)
    outputs = []
    for flag in ("--fill-bq", "--bq-to-gcs", "--gcs-to-bigtable"):
        result, _ = stage(run_cli, flag, "-v")
        outputs.append(result.stdout + result.stderr)
    avro = list((tmp_path / "taar-data/taar-profile-avro").iterdir())
    blobs = [p.read_bytes() for p in avro] + [(tmp_path / STORE).read_bytes()]
    records = [r for p in avro for r in avro_files.read_avro_records(Storage(), str(p))]
    assert {r["client_id"] for r in records} == {hash_client_id(r["client_id"]) for r in rows}
    for row in rows:
        raw = row["client_id"]
        assert not any(raw.encode() in blob for blob in blobs)
        assert not any(raw in text for text in outputs)


def test_rerun_is_idempotent_one_cell_version_per_row(run_cli, tmp_path):
    rows = generated_rows(10, seed=5)
    write_clients_last_seen(tmp_path / "taar-data" / "telemetry", rows)
    for flag in ("--fill-bq", "--bq-to-gcs", "--gcs-to-bigtable", "--gcs-to-bigtable"):
        stage(run_cli, flag)
    db = sqlite3.connect(tmp_path / STORE)
    per_row = db.execute("SELECT row_key, COUNT(*) FROM cells GROUP BY row_key").fetchall()
    stamps = {ts for (ts,) in db.execute("SELECT DISTINCT timestamp_micros FROM cells")}
    assert len(per_row) == 10 and {n for _, n in per_row} == {1}
    assert stamps == {int(dt.datetime(2026, 11, 27, tzinfo=dt.UTC).timestamp()) * 1_000_000}
    families = db.execute("SELECT table_id, family, gc_rule FROM column_families").fetchall()
    assert families == [("taar_profile", "profile", '{"union": [{"max_age_days": 90}, {"max_num_versions": 1}]}')]


def test_delete_opt_out_removes_requested_profiles_within_the_window(run_cli, tmp_path):
    rows = [client_row(f"client-{i}") for i in range(6)]
    telemetry = tmp_path / "taar-data" / "telemetry"
    write_clients_last_seen(telemetry, rows)
    noon = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
    write_deletion_requests(
        telemetry,
        [
            ("client-0", noon),  # on the day
            ("client-1", noon - dt.timedelta(days=3)),  # first day of a 3-day window
            ("client-1", noon - dt.timedelta(days=2)),  # duplicate request
            ("client-2", noon - dt.timedelta(days=4)),  # before the window
            ("client-3", noon + dt.timedelta(days=1)),  # after the day
            ("never-loaded", noon),
            (None, noon),
        ],
    )
    for flag in ("--fill-bq", "--bq-to-gcs", "--gcs-to-bigtable"):
        stage(run_cli, flag)
    _, deleted = stage(run_cli, "--delete-opt-out", "--delete-days", "3")
    assert deleted["counts"] == {"deletion_requests": 3, "rows_deleted": 2}
    assert deleted["details"]["window"] == "2026-11-24..2026-11-27"
    sink = LocalSink(tmp_path / STORE, "taar_profile")
    present = {i for i in range(6) if sink.read_payload(hash_client_id(f"client-{i}").encode())}
    sink.close()
    assert present == {2, 3, 4, 5}
    run_cli("get", "--client-id", "client-0", expect_exit=1)


def test_avro_intermediates_work_on_every_storage_backend(run_cli, tmp_path, storage_root):
    rows = generated_rows(12, seed=11)
    write_clients_last_seen(tmp_path / "taar-data" / "telemetry", rows)
    bucket = ("--avro-gcs-bucket", storage_root)
    stage(run_cli, "--fill-bq")
    _, exported = stage(run_cli, "--bq-to-gcs", *bucket)
    assert exported["artifacts"][0].startswith(storage_root.rstrip("/") + "/taar-profile.")
    _, loaded = stage(run_cli, "--gcs-to-bigtable", *bucket)
    assert loaded["counts"]["rows_written"] == 12
    _, wiped = stage(run_cli, "--wipe-avro", *bucket)
    assert wiped["counts"] == {"avro_files_deleted": 1}
    assert Storage().list_prefix(avro_files.avro_prefix(storage_root, DAY)) == []


def test_shards_split_the_files_and_together_load_every_row(tmp_path):
    import duckdb

    storage = Storage()
    rows = generated_rows(300, seed=2)
    source = write_clients_last_seen(tmp_path, rows)
    con = duckdb.connect()
    reader = con.execute(f"SELECT * FROM read_parquet('{source}/*.parquet')").to_arrow_reader(50)
    urls, written = avro_files.write_avro_files(
        storage, str(tmp_path / "avro"), DAY, reader, reader.schema, max_file_bytes=4096
    )
    assert written == 300 and len(urls) >= 4
    shards = [avro_files.shard_files(urls, i, 3) for i in range(3)]
    assert sorted(u for s in shards for u in s) == urls
    assert all(shards) and not set(shards[0]) & set(shards[1])


@pytest.mark.parametrize("bad", ["truncated", "not-avro"])
def test_a_corrupt_avro_file_fails_the_load_naming_the_file(run_cli, tmp_path, bad):
    write_clients_last_seen(tmp_path / "taar-data" / "telemetry", generated_rows(5))
    stage(run_cli, "--fill-bq")
    stage(run_cli, "--bq-to-gcs")
    (path,) = (tmp_path / "taar-data/taar-profile-avro").iterdir()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40] if bad == "truncated" else b"this is not avro at all" * 10)
    _, summary = stage(run_cli, "--gcs-to-bigtable", expect_exit=1)
    assert summary["status"] == "failed"
    assert str(path) in summary["error"] and "AvroFileError" in summary["error"]


def test_missing_source_table_and_avro_fail_naming_what_is_missing(run_cli, tmp_path):
    _, summary = stage(run_cli, "--fill-bq", expect_exit=1)
    assert "--source" in summary["error"] and "clients_last_seen" in summary["error"]
    _, summary = stage(run_cli, "--bq-to-gcs", expect_exit=1)
    assert "taar_tmp.taar_tmp_profile not found" in summary["error"]
    _, summary = stage(run_cli, "--gcs-to-bigtable", expect_exit=1)
    assert "no Avro files under" in summary["error"]


def test_exactly_one_stage_per_call(run_cli):
    result, _ = run_cli("--iso-date", DATE, expect_exit=2)
    assert "exactly one stage" in result.stderr
    result, _ = run_cli("--fill-bq", "--wipe-avro", expect_exit=2)
    assert "got 2" in result.stderr
    result, _ = run_cli("--gcs-to-bigtable", "--shard", "3/3", expect_exit=2)
    assert "0 <= i < N" in result.stderr


def test_null_entries_and_null_metrics_survive_the_whole_pipeline(run_cli, tmp_path):
    rows = [
        client_row(
            "client-n",
            subsession_hours_sum=None,
            places_bookmarks_count_mean=None,
            active_addons=[None, addon("x@y", is_system=True), addon(None)],
        )
    ]
    write_clients_last_seen(tmp_path / "taar-data" / "telemetry", rows)
    for flag in ("--fill-bq", "--bq-to-gcs", "--gcs-to-bigtable"):
        stage(run_cli, flag)
    result, _ = run_cli("get", "--hashed-client-id", hash_client_id("client-n"))
    profile = json.loads(result.stdout)
    assert profile["subsession_length"] == 0 and profile["places_bookmarks_count"] == 0
    assert [a["addon_id"] for a in profile["active_addons"]] == ["x@y"]
    assert profile["active_addons"][0]["is_system"] is True
