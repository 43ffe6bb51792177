"""The Dataproc path: the bundle zip + entry file run by spark-submit from an empty folder.

The interpreter Spark starts here ignores the venv's editable installs (`python -S` with
only site-packages on the path), so the job and taar_common can come only from the zip,
exactly as on a cluster whose image provides the third-party packages.
"""

from __future__ import annotations

import bz2
import datetime as dt
import json
import zipfile

import pytest
from taar_fixtures.handmade import addon, client, write_partition
from taar_testing.dataproc import DataprocHarness, dataproc_harness, job_leftovers, spark_submit

JOB = "spark_lite"
DAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def dataproc(tmp_path_factory) -> DataprocHarness:
    return dataproc_harness(JOB, tmp_path_factory.mktemp("dataproc"))


def test_bundle_holds_the_job_and_taar_common(dataproc):
    names = zipfile.ZipFile(dataproc.bundle.zip).namelist()
    assert "taar_spark_lite/cli.py" in names and "taar_common/spark.py" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "src/"))]
    assert "click==8.5.1" in dataproc.bundle.requirements.read_text().splitlines()


def test_spark_submit_runs_the_bundle_from_an_empty_folder(dataproc, tmp_path):
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
    out = tmp_path / "bucket"
    args = [
        "--date", f"{DAY:%Y%m%d}", "--input", str(data), "--whitelist-url", str(whitelist),
        "--bucket", str(out), "--compress", "bz2",
    ]  # fmt: skip
    result = spark_submit(dataproc.bundle, args, workdir=workdir, env=dataproc.env)
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
    assert job_leftovers(workdir) == []
