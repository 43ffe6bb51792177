"""spark_ensemble under `local-cluster`: separate executor JVMs and Python workers, a real shuffle
between processes. Code that only works when driver and executors share a JVM fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DAY, model_args
from taar_testing.spark_jobs import local_and_cluster_artifacts

pytestmark = pytest.mark.cluster

MODULE = "taar_spark_ensemble"


def test_local_cluster_artifacts_equal_the_local_run_byte_for_byte(generated, tmp_path: Path) -> None:
    args = ["--date", f"{DAY:%Y%m%d}", "--num-days", "3", "--input", generated["input"],
            *model_args(generated["models"]), "--seed", "7"]  # fmt: skip

    local, cluster = local_and_cluster_artifacts(MODULE, args, tmp_path)

    assert {Path(name).name for name in local} >= {"ensemble_weight.json"}
    assert cluster == local
