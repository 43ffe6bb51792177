"""The CLI builds one small settings object for the chosen stage, with the embedded defaults resolved."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest
import taar_common.summary
from click.testing import CliRunner
from conftest import DAY
from taar_profile_bigtable import cli, job, options
from taar_profile_bigtable.settings import (
    AvroFiles,
    DeleteSettings,
    ExportSettings,
    FillSettings,
    LoadSettings,
    ProfileStore,
    TempTable,
)

DATE = DAY.strftime("%Y%m%d")


def settings_of(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[str, object]:
    """(stage, settings) the CLI hands to `job`, captured instead of running the stage."""
    seen: list[tuple[str, object]] = []
    for stage in job.STAGES:
        stand_in = lambda settings, summary, storage, stage=stage: seen.append((stage, settings))  # noqa: E731
        monkeypatch.setitem(job.STAGE_FUNCTIONS, stage, stand_in)
    # Only the settings are under test (the stage lease has its own): gs://my-avro is no real bucket.
    monkeypatch.setattr(taar_common.summary, "hold_lease", lambda *args, **kwargs: contextlib.nullcontext())
    result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(seen) == 1
    return seen[0]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BIGTABLE_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("TAAR_DATA", raising=False)
    return tmp_path


def local_table(root: Path, engine: str = "duckdb", table_id: str = "taar_tmp_profile") -> TempTable:
    return TempTable(engine, "taar-local", "taar_tmp", table_id, root / "taar-data" / "bigquery.duckdb")


def test_every_stage_has_one_flag_in_the_schedulers_order():
    assert tuple(options.STAGE_HELP) == job.STAGES


def test_fill_gets_the_table_the_engines_default_source_and_the_rate(monkeypatch, in_tmp):
    stage, settings = settings_of(monkeypatch, "--fill-bq", "--iso-date", DATE, "--sample-rate", "0.5")
    assert stage == "fill_bq"
    source = str(in_tmp / "taar-data" / "telemetry" / "clients_last_seen")
    assert settings == FillSettings(DAY, local_table(in_tmp), source, 0.5)

    _, on_bigquery = settings_of(monkeypatch, "--fill-bq", "--iso-date", DATE, "--engine", "bigquery")
    assert on_bigquery.source == "moz-fx-data-shared-prod.telemetry.clients_last_seen"
    assert on_bigquery.table == local_table(in_tmp, "bigquery")


def test_export_and_wipe_avro_get_the_days_avro_files(monkeypatch, in_tmp):
    _, export = settings_of(monkeypatch, "--bq-to-gcs", "--iso-date", DATE, "--avro-gcs-bucket", "my-avro")
    assert export == ExportSettings(local_table(in_tmp), AvroFiles("gs://my-avro", DAY))
    _, wipe = settings_of(monkeypatch, "--wipe-avro", "--iso-date", DATE)
    assert wipe == AvroFiles(str(in_tmp / "taar-data" / "taar-profile-avro"), DAY)


def test_wipe_table_gets_only_the_table(monkeypatch, in_tmp):
    _, settings = settings_of(
        monkeypatch, "--wipe-bigquery-tmp-table", "--iso-date", DATE, "--bigquery-table-id", "other_tmp"
    )
    assert settings == local_table(in_tmp, table_id="other_tmp")


def test_load_gets_the_shard_and_a_bigtable_store_when_an_instance_is_named(monkeypatch, in_tmp):
    args = ("--gcs-to-bigtable", "--iso-date", DATE, "--shard", "2/4", "--workers", "8", "--batch-size", "10")
    _, local = settings_of(monkeypatch, *args)
    assert isinstance(local, LoadSettings)
    assert (local.shard_index, local.shard_count, local.workers, local.batch_size) == (2, 4, 8, 10)
    store = in_tmp / "taar-data" / "bigtable" / "profiles.sqlite3"
    assert local.store == ProfileStore("local", "taar-local", "taar-local", "taar_profile", store, 30.0)
    assert local.cell_timestamp == dt.datetime(2026, 11, 27, tzinfo=dt.UTC)

    _, named = settings_of(monkeypatch, *args, "--gcp-project", "my-project", "--bigtable-instance-id", "taar-prod")
    assert (named.store.sink, named.store.gcp_project, named.store.instance_id) == (
        "bigtable",
        "my-project",
        "taar-prod",
    )

    monkeypatch.setenv("BIGTABLE_EMULATOR_HOST", "127.0.0.1:1")
    _, emulator = settings_of(monkeypatch, *args)
    assert (emulator.store.sink, emulator.store.instance_id) == ("bigtable", "taar-local")
    _, forced = settings_of(monkeypatch, *args, "--sink", "local")
    assert forced.store.sink == "local"


def test_delete_gets_its_window_and_the_store(monkeypatch, in_tmp):
    _, settings = settings_of(monkeypatch, "--delete-opt-out", "--iso-date", DATE, "--delete-days", "3")
    assert isinstance(settings, DeleteSettings)
    assert (settings.window_start, settings.day) == (dt.date(2026, 11, 24), DAY)
    assert settings.deletion_source == str(in_tmp / "taar-data" / "telemetry" / "deletion_request")
    assert settings.store.sink == "local"


def test_local_defaults_land_under_the_data_root_wherever_the_job_starts(monkeypatch, in_tmp):
    elsewhere = in_tmp / "some" / "other" / "folder"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("TAAR_DATA", str(in_tmp / "root"))
    _, fill = settings_of(monkeypatch, "--fill-bq", "--iso-date", DATE)
    assert fill.source == str(in_tmp / "root" / "telemetry" / "clients_last_seen")
    assert fill.table.duckdb_path == in_tmp / "root" / "bigquery.duckdb"
    _, load = settings_of(monkeypatch, "--gcs-to-bigtable", "--iso-date", DATE)
    assert load.store.local_store == in_tmp / "root" / "bigtable" / "profiles.sqlite3"
    assert load.avro.bucket_url == str(in_tmp / "root" / "taar-profile-avro")
    assert not list(elsewhere.iterdir())  # nothing lands where the job was started


def test_negative_delete_days_are_refused_at_parse_time(run_cli):
    result, summary = run_cli("--delete-opt-out", "--iso-date", DATE, "--delete-days", "-1", expect_exit=2)
    assert summary is None and "Invalid value for '--delete-days'" in result.stderr


@pytest.mark.parametrize("option", ["--source", "--deletion-source"])
def test_bigquery_sources_are_checked_whatever_the_option_order(run_cli, option):
    bad = "p-roject.d.t` x"
    for args in (("--engine", "bigquery", option, bad), (option, bad, "--engine", "bigquery")):
        result, summary = run_cli("--wipe-avro", "--iso-date", DATE, *args, expect_exit=2)
        assert summary is None and f"Invalid value for {option}" in result.stderr


def test_a_local_path_is_not_a_bigquery_table_only_with_duckdb(monkeypatch, in_tmp):
    _, settings = settings_of(monkeypatch, "--fill-bq", "--iso-date", DATE, "--source", "./x` y")
    assert settings.source == "./x` y"  # a Parquet path for DuckDB, never put into SQL text


@pytest.mark.parametrize("stages", [(), ("--fill-bq", "--wipe-avro")])
def test_exactly_one_stage_per_call(run_cli, stages):
    result, summary = run_cli(*stages, "--iso-date", DATE, expect_exit=2)
    assert summary is None and f"give exactly one stage per call (got {len(stages)})" in result.stderr


def test_help_and_version_flags():
    runner = CliRunner()
    assert "--gcs-to-bigtable" in runner.invoke(cli.main, ["-h"]).stdout
    assert "--hashed-client-id" in runner.invoke(cli.main, ["get", "-h"]).stdout
    version = runner.invoke(cli.main, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("taar-profile-bigtable ")
