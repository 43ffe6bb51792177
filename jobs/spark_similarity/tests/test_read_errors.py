"""A clients_daily file Spark cannot read fails the job naming the file and the cause, without a JVM stack."""

from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import DAY, write_whitelist
from taar_common.storage import Storage, join_url
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.telemetry import write_clients_daily
from taar_spark_similarity.cli import main

NOT_PARQUET = b"this is a text file named like a parquet part\n" * 4


def test_corrupt_part_file_next_to_good_ones_is_named_and_the_latest_artifacts_kept(tmp_path):
    guids = sorted(generate_catalogue(30, seed=3).guids)
    clients_daily = write_clients_daily(tmp_path, n_clients=120, dates=[DAY], seed=3, addon_guids=guids)
    whitelist = write_whitelist(tmp_path / "only_guids_top_200.json", guids)
    corrupt = clients_daily / f"submission_date_s3={DAY:%Y%m%d}" / "part-99999.parquet"
    corrupt.write_bytes(NOT_PARQUET)
    bucket = str(tmp_path / "out")
    latest = join_url(bucket, "taar/similarity/donors.json")
    Storage().write_bytes(latest, b"[]")

    result = CliRunner().invoke(
        main,
        ["--date", f"{DAY:%Y%m%d}", "--input", str(clients_daily), "--whitelist-url", str(whitelist),
         "--num-clusters", "3", "--num-donors", "10", "--num-pdf-points", "50", "--bucket", bucket],
    )  # fmt: skip

    assert result.exit_code == 1, result.stderr
    error = json.loads(result.stdout.strip().splitlines()[-1])["error"]
    assert error.startswith("InputError: cannot read clients_daily file ") and error.count("\n") == 0
    assert str(corrupt) in error and "is not a Parquet file" in error, error
    for stack_marker in ("\tat ", "org.apache.spark.scheduler", "An error occurred while calling", "Traceback"):
        assert stack_marker not in error
    error_lines = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(error_lines) == 1 and str(corrupt) in error_lines[0]
    assert Storage().read_bytes(latest) == b"[]"
    assert sorted(p.name for p in (tmp_path / "out" / "taar" / "similarity").iterdir()) == ["donors.json"]
