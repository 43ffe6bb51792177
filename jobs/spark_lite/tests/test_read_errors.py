"""A clients_daily file Spark cannot read fails the job naming the file and the cause, without a JVM stack."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from taar_fixtures.handmade import addon, client, write_partition
from taar_spark_lite.cli import main

DAY = dt.date(2026, 11, 27)
NOT_PARQUET = b"this is a text file named like a parquet part\n" * 4


@pytest.fixture
def day_with_clients(tmp_path) -> dict:
    rows = [client(f"c{i}", [addon("a@x"), addon("b@x")]) for i in range(4)]
    root = write_partition(tmp_path / "clients_daily", DAY, rows, name="part-0000.parquet")
    whitelist_url = tmp_path / "whitelist_addons_database.json"
    whitelist_url.write_text(json.dumps({"a@x": {"guid": "a@x"}, "b@x": {"guid": "b@x"}}))
    return {"root": root, "partition": root / f"submission_date_s3={DAY:%Y%m%d}", "whitelist": str(whitelist_url)}


def run_job(inputs: dict, bucket: Path, *extra: str):
    args = ["--date", f"{DAY:%Y%m%d}", "--input", str(inputs["root"]), "--whitelist-url", inputs["whitelist"]]
    result = CliRunner().invoke(main, [*args, "--bucket", str(bucket), *extra])
    lines = result.stdout.strip().splitlines()
    return result, (json.loads(lines[-1]) if lines else {})


def assert_names_file_and_cause(result, summary, corrupt: Path) -> None:
    assert result.exit_code == 1, result.stderr
    error = summary["error"]
    assert error.startswith("InputError: cannot read clients_daily file ") and error.count("\n") == 0
    assert str(corrupt) in error and "is not a Parquet file" in error, error
    for stack_marker in ("\tat ", "org.apache.spark.scheduler", "An error occurred while calling", "Traceback"):
        assert stack_marker not in error
    error_lines = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(error_lines) == 1 and str(corrupt) in error_lines[0] and "is not a Parquet file" in error_lines[0]
    assert "\tat org.apache" not in result.stderr  # the JVM stack is for the debug log only


def test_corrupt_part_file_next_to_good_ones_is_named_and_the_latest_artifact_kept(day_with_clients, tmp_path):
    bucket = tmp_path / "out"
    first, _ = run_job(day_with_clients, bucket)
    assert first.exit_code == 0, first.stderr
    latest = next(bucket.rglob("guid_coinstallation.json"))
    before = latest.read_bytes()

    corrupt = day_with_clients["partition"] / "part-0001.parquet"
    corrupt.write_bytes(NOT_PARQUET)
    result, summary = run_job(day_with_clients, bucket)
    assert_names_file_and_cause(result, summary, corrupt)
    assert latest.read_bytes() == before


def test_partition_of_only_a_corrupt_file_fails_at_schema_inference_naming_it(day_with_clients, tmp_path):
    (day_with_clients["partition"] / "part-0000.parquet").unlink()
    corrupt = day_with_clients["partition"] / "part-0002.parquet"
    corrupt.write_bytes(NOT_PARQUET)
    result, summary = run_job(day_with_clients, tmp_path / "out")
    assert_names_file_and_cause(result, summary, corrupt)


def test_the_jvm_error_goes_to_the_debug_log(day_with_clients, tmp_path):
    corrupt = day_with_clients["partition"] / "part-0001.parquet"
    corrupt.write_bytes(NOT_PARQUET)
    result, summary = run_job(day_with_clients, tmp_path / "out", "--verbose")
    assert result.exit_code == 1
    assert "DEBUG" in result.stderr and "FAILED_READ_FILE" in result.stderr
    assert "FAILED_READ_FILE" not in summary["error"]
