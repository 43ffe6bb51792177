"""Shared CLI conventions: dates in both forms, bucket URLs and aliases, the summary line."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import logging
import warnings
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from taar_common.dates import data_day, parse_date
from taar_common.options import date_option, job_version, output_options, standard_flags
from taar_common.sensor import main as wait_for_main
from taar_common.storage import DATA_ROOT_ENV, local_data_root, resolve_bucket_url
from taar_common.summary import RunSummary


def test_dates_in_both_forms():
    assert parse_date("20261127") == parse_date("2026-11-27") == dt.date(2026, 11, 27)
    with pytest.raises(ValueError, match="2026/11/27"):
        parse_date("2026/11/27")


def test_bucket_forms():
    assert resolve_bucket_url("telemetry-parquet", "x") == "gs://telemetry-parquet"
    assert resolve_bucket_url("s3://legacy/", "x") == "s3://legacy"
    assert resolve_bucket_url(None, "telemetry-parquet") == str(Path("taar-data/telemetry-parquet").resolve())
    assert resolve_bucket_url("file:///tmp/out", "x") == "/tmp/out"


@click.command()
@date_option()
@output_options("telemetry-parquet", "p/")
@click.option("--fail", is_flag=True)
def demo_command(run_date, target, fail):
    summary = RunSummary("demo")

    def job():
        summary.count("rows", 3)
        summary.add_artifact(target.bucket_url)
        if fail:
            raise RuntimeError("boom at s3://b/k")

    summary.run(job)


def test_the_output_target_takes_one_bucket_form():
    def bucket_of(*args: str) -> str:
        result = CliRunner().invoke(demo_command, ["--date", "20261127", *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout.strip())["artifacts"][0]

    assert bucket_of("--gcs-bucket", "gbucket") == "gs://gbucket"
    assert bucket_of("--s3-bucket", "sbucket") == "s3://sbucket"
    assert bucket_of("--bucket", "telemetry-parquet") == "gs://telemetry-parquet"
    both = CliRunner().invoke(demo_command, ["--bucket", "bucket-a", "--gcs-bucket", "bucket-b"])
    assert both.exit_code == 2 and "give only one of --bucket, --gcs-bucket, --s3-bucket" in both.output


def test_summary_is_one_json_line_and_exit_codes():
    ok = CliRunner().invoke(demo_command, ["--date", "2026-11-27", "--s3-bucket", "legacy"])
    assert ok.exit_code == 0
    line = json.loads(ok.stdout.strip())
    assert line["status"] == "ok" and line["counts"] == {"rows": 3} and line["artifacts"] == ["s3://legacy"]
    failed = CliRunner().invoke(demo_command, ["--date", "20261127", "--fail"])
    assert failed.exit_code == 1
    summary = json.loads(failed.stdout.strip())
    assert summary["status"] == "failed" and "boom at s3://b/k" in summary["error"]


def test_bad_date_is_a_usage_error():
    result = CliRunner().invoke(demo_command, ["--date", "27.11.2026"])
    assert result.exit_code == 2
    assert "YYYYMMDD" in result.output


@pytest.mark.parametrize(
    "text",
    ["2026111", "2026-1-5", "0999-01-01", "09990101", "1999-12-31", "2101-01-01", "20261301"]
    + ["２０２６１１２７", " 20261127"],  # full-width digits, surrounding space
)
def test_dates_are_exactly_eight_digits_or_dashed_iso_in_2000_to_2100(text):
    with pytest.raises(ValueError, match=text):
        parse_date(text)
    result = CliRunner().invoke(demo_command, ["--date", text])
    assert result.exit_code == 2
    assert "Invalid value for '--date'" in result.output and text in result.output


def test_boundary_years_are_accepted():
    assert parse_date("2000-01-01") == dt.date(2000, 1, 1)
    assert parse_date("21001231") == dt.date(2100, 12, 31)


def test_date_defaults_to_the_data_day_yesterday_utc():
    late_evening_west = dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    assert data_day(late_evening_west) == dt.date(2026, 11, 27)  # 07:30 UTC on the 28th
    assert data_day(dt.datetime(2026, 1, 1, 0, 5, tzinfo=dt.UTC)) == dt.date(2025, 12, 31)
    result = CliRunner().invoke(demo_command, [])
    assert json.loads(result.stdout)["status"] == "ok"
    assert "yesterday, UTC: the data day" in " ".join(CliRunner().invoke(demo_command, ["--help"]).stdout.split())


@click.command()
@date_option()
@click.option("--verbose", is_flag=True)
def verbose_command(run_date, verbose):
    click.echo(f"{run_date} verbose={verbose}")


def test_standard_flags_give_every_job_h_v_and_version():
    runner = CliRunner()
    assert runner.invoke(verbose_command, ["-v", "--date", "20261127"]).stdout == "2026-11-27 verbose=True\n"
    assert "Show this message and exit." in runner.invoke(verbose_command, ["-h"]).stdout
    version = runner.invoke(verbose_command, ["--version"])
    # the command lives in this test module, which no distribution provides: the fallback says so
    assert version.exit_code == 0 and "version unknown" in version.stdout
    # under a context that already maps -h (the Spark jobs' style) there is one -h, no warning
    spark_style = click.command(context_settings={"help_option_names": ["-h", "--help"]})(
        standard_flags(click.option("-v", "--verbose", is_flag=True)(lambda verbose: None))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "Show this message" in runner.invoke(spark_style, ["-h"]).stdout


@click.command()
@date_option()
def quiet_command(run_date):
    logging.getLogger("taar_test").debug("DEBUG LINE")
    logging.getLogger("taar_test").info("INFO LINE")


def test_a_command_without_its_own_verbose_gets_one_that_configures_logging():
    runner = CliRunner()
    plain, verbose = runner.invoke(quiet_command, []), runner.invoke(quiet_command, ["-v"])
    assert plain.exit_code == verbose.exit_code == 0
    assert "INFO LINE" in plain.stderr and "DEBUG LINE" not in plain.stderr
    assert "DEBUG LINE" in verbose.stderr
    assert "-v, --verbose" in runner.invoke(quiet_command, ["-h"]).stdout


def test_version_is_the_installed_distribution_of_the_command():
    assert job_version(wait_for_main) == f"taar-common {importlib.metadata.version('taar-common')}"


def test_data_root_precedence(tmp_path, monkeypatch):
    checkout = tmp_path / "checkout"
    (checkout / "libs" / "taar_common").mkdir(parents=True)
    (checkout / "libs" / "taar_common" / "pyproject.toml").write_text("")
    (checkout / "jobs" / "amodump").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.delenv(DATA_ROOT_ENV, raising=False)
    # inside a checkout, from any folder of it: the checkout's taar-data
    assert local_data_root(checkout / "jobs" / "amodump") == checkout / "taar-data"
    monkeypatch.chdir(checkout / "jobs" / "amodump")
    assert resolve_bucket_url(None, "telemetry-parquet") == str(checkout / "taar-data" / "telemetry-parquet")
    # outside any checkout (a container): the current directory
    assert local_data_root(elsewhere) == elsewhere / "taar-data"
    # $TAAR_DATA wins over both
    monkeypatch.setenv(DATA_ROOT_ENV, str(tmp_path / "root"))
    assert local_data_root(checkout) == tmp_path / "root"
    assert resolve_bucket_url(None, "telemetry-parquet") == str(tmp_path / "root" / "telemetry-parquet")
