"""The Dataproc path: the bundle zip + entry file run by spark-submit from an empty folder.

The interpreter Spark starts here ignores the venv's editable installs (`python -S` with
only site-packages on the path), so the job and taar_common can come only from the zip,
exactly as on a cluster whose image provides the third-party packages.
"""

from __future__ import annotations

import bz2
import datetime as dt
import json
import subprocess
import zipfile

import pytest
from taar_fixtures.handmade import addon, client, write_partition
from taar_testing.dataproc import DataprocBundle, build_bundle, cluster_environment, job_leftovers, spark_submit

JOB = "spark_locale"
DAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> DataprocBundle:
    return build_bundle(JOB, tmp_path_factory.mktemp("dataproc"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    return cluster_environment(tmp_path_factory.mktemp("python"))


def test_bundle_holds_the_job_and_taar_common(bundle):
    names = zipfile.ZipFile(bundle.zip).namelist()
    assert (
        "taar_spark_locale/cli.py" in names
        and "taar_spark_locale/entry.py" in names
        and "taar_common/spark.py" in names
    )
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "src/"))]
    assert {"click==8.5.1", "numpy==2.4.6"} <= set(bundle.requirements.read_text().splitlines())


def test_spark_submit_runs_the_bundle_from_an_empty_folder(bundle, cluster, tmp_path):
    wrapper, env = cluster
    probe = subprocess.run([str(wrapper), "-c", "import taar_spark_locale"], env=env, capture_output=True, text=True)
    assert "No module named 'taar_spark_locale'" in probe.stderr, "the package must come only from --py-files"

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
    result = spark_submit(bundle, args, workdir=workdir, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "ok" and summary["counts"]["null_client_id_rows"] == 1
    top = json.loads(bz2.decompress((out / "taar/locale/top10_dict.json.bz2").read_bytes()))
    assert sorted(top) == ["de", "en-US"]
    assert [g for g, _ in top["en-US"]] == ["a@x", "b@x", "c@x"]  # counts 2, 1, 0: noise ~1e-12
    assert [w for _, w in top["en-US"]] == pytest.approx([2 / 3, 1 / 3, 0.0], abs=1e-9)
    assert top["de"][0][0] == "b@x" and top["de"][0][1] == pytest.approx(1.0, abs=1e-9)
    assert job_leftovers(workdir) == []
