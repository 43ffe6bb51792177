"""The Dataproc path (taar_testing.dataproc): the bundle zip + entry file run by spark-submit from
an empty folder publishes the same bytes as the console script (same input, same seed)."""

from __future__ import annotations

from taar_testing.dataproc import dataproc_fixture
from test_job import generated_args, run_generated

ARTIFACTS = ("addon_recommender/item_matrix.json", "addon_recommender/addon_mapping.json")

dataproc = dataproc_fixture("spark_collaborative")


def test_spark_submit_of_the_bundle_publishes_the_console_scripts_bytes(dataproc, generated, tmp_path):
    in_process, submitted = tmp_path / "in_process", tmp_path / "submitted"
    code, _, stderr = run_generated(generated, str(in_process))
    assert code == 0, stderr
    summary = dataproc.submit(generated_args(generated, str(submitted)), workdir=tmp_path / "empty")
    assert summary["status"] == "ok"
    for name in ARTIFACTS:
        assert (submitted / name).read_bytes() == (in_process / name).read_bytes(), name
