"""The Dataproc path: the bundle zip + entry file run by spark-submit from an empty folder.

The interpreter Spark starts here ignores the venv's editable installs (`python -S` with
only site-packages on the path), so the job and taar_common can come only from the zip,
exactly as on a cluster whose image provides the third-party packages.
"""

from __future__ import annotations

import bz2
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pyspark
import pytest
from clients_daily_rows import addon, client, write_partition

ROOT = Path(__file__).resolve().parents[3]
JOB = "spark_lite"
DAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dataproc")
    subprocess.run([sys.executable, str(ROOT / "tools" / "dataproc_bundle.py"), JOB, "--out", str(out)], check=True)
    return {"zip": out / f"{JOB}.zip", "main": out / f"{JOB}_main.py", "requirements": out / f"{JOB}_requirements.txt"}


@pytest.fixture(scope="module")
def cluster_python(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A python that sees the venv's third-party packages but not its editable (.pth) installs."""
    wrapper = tmp_path_factory.mktemp("python") / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_", "SPARK_", "PYTHON"))}
    env.update(
        PYTHONPATH=sysconfig.get_paths()["purelib"],
        PYSPARK_PYTHON=str(wrapper),
        PYSPARK_DRIVER_PYTHON=str(wrapper),
        SPARK_HOME=str(Path(pyspark.__file__).parent),
        SPARK_LOCAL_IP="127.0.0.1",
    )
    return wrapper, env


def test_bundle_holds_the_job_and_taar_common(bundle):
    names = zipfile.ZipFile(bundle["zip"]).namelist()
    assert "taar_spark_lite/cli.py" in names and "taar_common/spark.py" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "src/"))]
    assert "click==8.5.1" in bundle["requirements"].read_text().splitlines()


def test_spark_submit_runs_the_bundle_from_an_empty_folder(bundle, cluster_python, tmp_path):
    wrapper, env = cluster_python
    probe = subprocess.run([str(wrapper), "-c", "import taar_spark_lite"], env=env, capture_output=True, text=True)
    assert "No module named 'taar_spark_lite'" in probe.stderr, "the package must come only from --py-files"

    rows = [
        client("c1", [addon("a@x"), addon("b@x"), addon("c@x")]),
        client("c2", [addon("a@x"), addon("b@x")]),
        client(None, [addon("a@x"), addon("b@x")]),
        client("c3", [addon("a@x"), addon("b@x")], channel="beta"),
    ]
    data = write_partition(tmp_path / "clients_daily", DAY, rows)
    whitelist = tmp_path / "whitelist_addons_database.json"
    whitelist.write_text(json.dumps({g: {"guid": g} for g in ("a@x", "b@x", "c@x")}))
    workdir = tmp_path / "empty"
    workdir.mkdir()
    out = tmp_path / "bucket"
    spark_submit = Path(sys.executable).parent / "spark-submit"
    command = [
        str(spark_submit), "--master", "local[2]", "--driver-memory", "512m",
        "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=4",
        "--py-files", str(bundle["zip"]), str(bundle["main"]),
        "--date", f"{DAY:%Y%m%d}", "--input", str(data), "--whitelist-url", str(whitelist),
        "--bucket", str(out), "--compress", "bz2",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "ok" and summary["counts"]["null_client_id_rows"] == 1
    coinstallation = json.loads(bz2.decompress((out / "taar/lite/guid_coinstallation.json.bz2").read_bytes()))
    assert coinstallation == {
        "a@x": {"b@x": 2, "c@x": 1},
        "b@x": {"a@x": 2, "c@x": 1},
        "c@x": {"a@x": 1, "b@x": 1},
    }
    ranking = json.loads(bz2.decompress((out / "taar/lite/guid_install_ranking.json.bz2").read_bytes()))
    assert ranking == {"a@x": 2, "b@x": 2, "c@x": 1}
    assert sorted(p.name for p in workdir.iterdir() if p.name != "spark-warehouse") == []
    shutil.rmtree(workdir, ignore_errors=True)
