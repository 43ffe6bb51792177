"""End to end: generated clients_daily -> `taar-spark-similarity` -> checked donors and LR curves."""

from __future__ import annotations

import bz2
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from conftest import DAY, row, write_whitelist
from taar_common.artifacts import DONOR_FIELDS
from taar_common.storage import Storage
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.handmade import write_partition
from taar_fixtures.telemetry import generate_client_ids, write_clients_daily
from taar_spark_similarity.cli import main
from taar_testing.dataproc import dataproc_harness, spark_submit
from taar_testing.spark_jobs import files_under

N_CLIENTS = 400
N_DONORS = 20
DATES = [DAY - dt.timedelta(days=2), DAY]
SMALL = ["--num-clusters", "3", "--num-donors", str(N_DONORS), "--num-pdf-points", "50", "--date", f"{DAY:%Y%m%d}"]


@pytest.fixture(scope="module")
def telemetry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Generated clients_daily for two days plus a whitelist of the 60 catalogue add-ons they use."""
    root = tmp_path_factory.mktemp("telemetry")
    guids = sorted(generate_catalogue(60, seed=3).guids)
    clients_daily = write_clients_daily(root, n_clients=N_CLIENTS, dates=DATES, seed=3, addon_guids=guids)
    whitelist = write_whitelist(root / "only_guids_top_200.json", guids)
    return {"input": str(clients_daily), "whitelist": str(whitelist), "root": root}


def run_job(*args: str) -> tuple[Result, dict[str, Any]]:
    result = CliRunner().invoke(main, list(args))
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no run summary; exit {result.exit_code}: {result.output}\n{result.exception!r}"
    return result, json.loads(lines[-1])


def spark_submit_bundle(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Build the Dataproc bundle, then spark-submit its entry file from an empty working directory."""
    dataproc = dataproc_harness("spark_similarity", tmp_path)
    return spark_submit(dataproc.bundle, list(args), workdir=tmp_path / "cwd", env=dataproc.env, timeout=600)


def test_job_publishes_donors_and_lr_curves_reproducibly(
    telemetry: dict[str, Any], tmp_path: Path, gcs_bucket_url: str
) -> None:
    """In-process run vs. the Dataproc bundle under spark-submit (other partitioning, GCS, bz2): same bytes."""
    common = ["--input", telemetry["input"], "--whitelist-url", telemetry["whitelist"], *SMALL, "--seed", "5"]
    first, summary = run_job(*common, "--bucket", str(tmp_path))
    assert first.exit_code == 0, summary
    submitted = spark_submit_bundle(tmp_path, *common, "--bucket", gcs_bucket_url, "--compress", "bz2")
    assert submitted.returncode == 0, submitted.stderr[-3000:]
    assert json.loads(submitted.stdout.splitlines()[-1])["status"] == "ok"

    out = tmp_path / "taar" / "similarity"
    assert sorted(p.name for p in out.iterdir()) == [
        "donors.json",
        f"donors{DAY:%Y%m%d}.json",
        "lr_curves.json",
        f"lr_curves{DAY:%Y%m%d}.json",
    ]
    storage = Storage()
    for name in ("donors.json", "lr_curves.json"):
        compressed = storage.read_bytes(f"{gcs_bucket_url}/taar/similarity/{name}.bz2")
        assert bz2.decompress(compressed) == (out / name).read_bytes(), f"{name} differs for the same seed"

    donors = json.loads((out / "donors.json").read_text())
    assert len(donors) == N_DONORS == summary["counts"]["donors"]
    assert all(sorted(d) == sorted(DONOR_FIELDS) for d in donors)
    whitelist = set(json.loads(Path(telemetry["whitelist"]).read_text()))
    assert all(len(d["active_addons"]) > 2 and set(d["active_addons"]) <= whitelist for d in donors)
    text = (out / "donors.json").read_text()
    assert not any(client_id in text for client_id in generate_client_ids(N_CLIENTS, 3))

    curves = json.loads((out / "lr_curves.json").read_text())
    scores = np.array([c[0] for c in curves])
    densities = np.array([c[1] for c in curves])
    assert len(curves) == 50 and (np.diff(scores) > 0).all() and (densities >= 0).all()
    for column in (0, 1):
        assert np.trapezoid(densities[:, column], scores) == pytest.approx(1.0, abs=0.02)

    counts = summary["counts"]
    assert counts["null_client_id_rows"] > 0 and counts["candidate_clients"] >= N_DONORS
    assert sum(summary["details"]["cluster_sizes"]) == counts["candidate_clients"]
    assert counts["same_cluster_pairs"] + counts["other_cluster_pairs"] == N_DONORS * (N_DONORS - 1) // 2
    assert summary["status"] == "ok" and len(summary["artifacts"]) == 4


def test_empty_whitelist_fails(telemetry: dict[str, Any], tmp_path: Path) -> None:
    empty = write_whitelist(tmp_path / "empty.json", [])
    result, summary = run_job("--input", telemetry["input"], "--whitelist-url", str(empty), *SMALL,
                              "--bucket", str(tmp_path))  # fmt: skip
    assert result.exit_code == 1 and "empty" in summary["error"] and str(empty) in summary["error"]
    assert files_under(tmp_path / "taar") == []


def test_missing_whitelist_fails_naming_the_url(telemetry: dict[str, Any], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "only_guids_top_200.json"
    result, summary = run_job("--input", telemetry["input"], "--whitelist-url", str(missing), *SMALL,
                              "--bucket", str(tmp_path))  # fmt: skip
    assert result.exit_code == 1 and str(missing) in summary["error"]


def test_no_partition_in_range_fails_naming_it(telemetry: dict[str, Any], tmp_path: Path) -> None:
    result, summary = run_job(
        "--input", telemetry["input"], "--whitelist-url", telemetry["whitelist"], *SMALL[:-2],
        "--date", "20250101", "--from-date", "20241231", "--bucket", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "submission_date_s3=20241231" in summary["error"] and "InputError" in summary["error"]


def test_input_without_a_needed_column_fails_naming_it(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "clients_daily" / f"submission_date_s3={DAY:%Y%m%d}"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"client_id": ["a"], "channel": ["release"]}), folder / "part-0.parquet")
    whitelist = write_whitelist(tmp_path / "w.json", ["a@b"])
    result, summary = run_job("--input", str(tmp_path / "clients_daily"), "--whitelist-url", str(whitelist),
                              *SMALL, "--bucket", str(tmp_path / "out"))  # fmt: skip
    assert result.exit_code == 1 and "city" in summary["error"]


def test_no_qualifying_client_fails_and_publishes_nothing(tmp_path: Path) -> None:
    clients_daily = write_partition(tmp_path / "clients_daily", DAY, [row("a", ["x@y", "z@y"]), row(None, [])])
    whitelist = write_whitelist(tmp_path / "w.json", ["x@y", "z@y"])
    result, summary = run_job("--input", str(clients_daily), "--whitelist-url", str(whitelist), *SMALL,
                              "--bucket", str(tmp_path / "out"))  # fmt: skip
    assert result.exit_code == 1 and "NoDonorsError" in summary["error"]
    assert summary["counts"]["null_client_id_rows"] == 1
    assert files_under(tmp_path / "out") == []
