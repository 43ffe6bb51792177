"""The Dataproc path: the bundle zip + entry file run by spark-submit from an empty folder
publishes the same weights as the console script (same input, models and seed).

The interpreter Spark starts here ignores the venv's editable installs (`python -S` with
only site-packages on the path), so the job and taar_common can come only from the zip.
"""

from __future__ import annotations

import json

import pytest
from conftest import DAY, model_args
from taar_testing.dataproc import DataprocHarness, dataproc_harness, job_leftovers, spark_submit
from test_job import run_generated

JOB = "spark_ensemble"
WEIGHTS = "taar/ensemble/ensemble_weight.json"


@pytest.fixture(scope="module")
def dataproc(tmp_path_factory) -> DataprocHarness:
    return dataproc_harness(JOB, tmp_path_factory.mktemp("dataproc"))


def test_spark_submit_of_the_bundle_publishes_the_console_scripts_weights(dataproc, generated, tmp_path):
    code, in_process, stderr = run_generated(generated, str(tmp_path / "in_process"))
    assert code == 0, stderr
    args = [
        "--date", f"{DAY:%Y%m%d}", "--num-days", "3", "--input", generated["input"],
        *model_args(generated["models"]), "--bucket", str(tmp_path / "submitted"),
    ]  # fmt: skip
    result = spark_submit(dataproc.bundle, args, workdir=tmp_path / "empty", env=dataproc.env)
    assert result.returncode == 0, result.stderr[-4000:]
    submitted = json.loads(result.stdout.strip().splitlines()[-1])
    assert submitted["status"] == "ok"
    assert (tmp_path / "submitted" / WEIGHTS).read_bytes() == (tmp_path / "in_process" / WEIGHTS).read_bytes()
    assert submitted["details"]["hit_rate_at_10"] == in_process["details"]["hit_rate_at_10"]
    assert job_leftovers(tmp_path / "empty") == []
