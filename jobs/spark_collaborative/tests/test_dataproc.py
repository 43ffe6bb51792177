"""The Dataproc path: the bundle zip + entry file run by spark-submit from an empty folder
publishes the same bytes as the console script (same input, same seed).

The interpreter Spark starts here ignores the venv's editable installs (`python -S` with
only site-packages on the path), so the job and taar_common can come only from the zip.
"""

from __future__ import annotations

import json

import pytest
from conftest import DAY
from taar_testing.dataproc import DataprocHarness, dataproc_harness, job_leftovers, spark_submit
from test_job import SMALL_MODEL, run_generated

JOB = "spark_collaborative"
ARTIFACTS = ("addon_recommender/item_matrix.json", "addon_recommender/addon_mapping.json")


@pytest.fixture(scope="module")
def dataproc(tmp_path_factory) -> DataprocHarness:
    return dataproc_harness(JOB, tmp_path_factory.mktemp("dataproc"))


def test_spark_submit_of_the_bundle_publishes_the_console_scripts_bytes(dataproc, generated, tmp_path):
    code, _, stderr = run_generated(generated, str(tmp_path / "in_process"))
    assert code == 0, stderr
    args = [
        "--date", f"{DAY:%Y%m%d}", "--num-days", "2", "--input", generated["input"],
        "--whitelist-url", generated["whitelist_url"], "--bucket", str(tmp_path / "submitted"), *SMALL_MODEL,
    ]  # fmt: skip
    result = spark_submit(dataproc.bundle, args, workdir=tmp_path / "empty", env=dataproc.env)
    assert result.returncode == 0, result.stderr[-4000:]
    assert json.loads(result.stdout.strip().splitlines()[-1])["status"] == "ok"
    for name in ARTIFACTS:
        assert (tmp_path / "submitted" / name).read_bytes() == (tmp_path / "in_process" / name).read_bytes(), name
    assert job_leftovers(tmp_path / "empty") == []
