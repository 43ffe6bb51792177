"""The Dataproc path (taar_testing.dataproc): the bundle zip + entry file run by spark-submit from
an empty folder publishes the same weights as the console script (same input, models and seed)."""

from __future__ import annotations

from taar_testing.dataproc import dataproc_fixture
from test_job import generated_args, run_generated

WEIGHTS = "taar/ensemble/ensemble_weight.json"

dataproc = dataproc_fixture("spark_ensemble")


def test_spark_submit_of_the_bundle_publishes_the_console_scripts_weights(dataproc, generated, tmp_path):
    code, in_process, stderr = run_generated(generated, str(tmp_path / "in_process"))
    assert code == 0, stderr
    submitted = dataproc.submit(generated_args(generated, str(tmp_path / "submitted")), workdir=tmp_path / "empty")
    assert submitted["status"] == "ok"
    assert (tmp_path / "submitted" / WEIGHTS).read_bytes() == (tmp_path / "in_process" / WEIGHTS).read_bytes()
    assert submitted["details"]["hit_rate_at_10"] == in_process["details"]["hit_rate_at_10"]
