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

JOB = "spark_locale"
DAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def dataproc(tmp_path_factory) -> DataprocHarness:
    return dataproc_harness(JOB, tmp_path_factory.mktemp("dataproc"))


def test_bundle_holds_the_job_and_taar_common(dataproc):
    names = zipfile.ZipFile(dataproc.bundle.zip).namelist()
    assert (
        "taar_spark_locale/cli.py" in names
        and "taar_spark_locale/entry.py" in names
        and "taar_common/spark.py" in names
    )
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "src/"))]
    assert {"click==8.5.1", "numpy==2.4.6"} <= set(dataproc.bundle.requirements.read_text().splitlines())


def test_spark_submit_runs_the_bundle_from_an_empty_folder(dataproc, tmp_path):
    rows = [
        client("c1", [addon("a@x"), addon("b@x")]),
        client("c2", [addon("a@x")]),
        client("c3", [addon("b@x")], locale="de"),
        client(None, [addon("a@x")]),
    ]
    data = write_partition(tmp_path / "clients_daily", DAY, rows)
    whitelist = tmp_path / "only_guids_top_200.json"
    whitelist.write_text(json.dumps(["a@x", "b@x", "c@x"]))
    workdir = tmp_path / "empty"
    out = tmp_path / "bucket"
    args = [
        "--date", f"{DAY:%Y%m%d}", "--input", str(data), "--whitelist-url", str(whitelist),
        "--bucket", str(out), "--compress", "bz2", "--epsilon", "1e12", "--max-addons-per-client", "5",
    ]  # fmt: skip
    result = spark_submit(dataproc.bundle, args, workdir=workdir, env=dataproc.env)
    assert result.returncode == 0, result.stderr[-4000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "ok" and summary["counts"]["null_client_id_rows"] == 1
    top = json.loads(bz2.decompress((out / "taar/locale/top10_dict.json.bz2").read_bytes()))
    assert sorted(top) == ["de", "en-US"]
    assert [g for g, _ in top["en-US"]] == ["a@x", "b@x", "c@x"]  # counts 2, 1, 0: noise ~1e-12
    assert [w for _, w in top["en-US"]] == pytest.approx([2 / 3, 1 / 3, 0.0], abs=1e-9)
    assert top["de"][0][0] == "b@x" and top["de"][0][1] == pytest.approx(1.0, abs=1e-9)
    assert job_leftovers(workdir) == []
