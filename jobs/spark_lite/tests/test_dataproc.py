"""spark_lite's Dataproc path (taar_testing.dataproc): the bundle, and spark-submit of it from an
empty folder publishing a hand-made day's co-installations and ranking."""

from __future__ import annotations

import bz2
import datetime as dt
import json

from taar_fixtures.handmade import addon, client, write_partition, write_whitelist
from taar_testing.dataproc import dataproc_fixture

DAY = dt.date(2026, 11, 27)

dataproc = dataproc_fixture("spark_lite")


def test_bundle_holds_the_job_and_taar_common(dataproc):
    assert {"taar_spark_lite/cli.py", "taar_common/spark.py"} <= dataproc.bundle.entries()
    assert dataproc.bundle.strays() == []
    assert "click==8.5.1" in dataproc.bundle.pins()


def test_spark_submit_runs_the_bundle_from_an_empty_folder(dataproc, tmp_path):
    rows = [
        client("c1", [addon("a@x"), addon("b@x"), addon("c@x")]),
        client("c2", [addon("a@x"), addon("b@x")]),
        client(None, [addon("a@x"), addon("b@x")]),
        client("c3", [addon("a@x"), addon("b@x")], channel="beta"),
    ]
    data = write_partition(tmp_path / "clients_daily", DAY, rows)
    whitelist = write_whitelist(tmp_path, {g: {"guid": g} for g in ("a@x", "b@x", "c@x")})
    out = tmp_path / "bucket"
    args = [
        "--date", f"{DAY:%Y%m%d}", "--input", str(data), "--whitelist-url", str(whitelist),
        "--bucket", str(out), "--compress", "bz2",
    ]  # fmt: skip
    summary = dataproc.submit(args, workdir=tmp_path / "empty")
    assert summary["status"] == "ok" and summary["counts"]["null_client_id_rows"] == 1
    coinstallation = json.loads(bz2.decompress((out / "taar/lite/guid_coinstallation.json.bz2").read_bytes()))
    assert coinstallation == {
        "a@x": {"b@x": 2, "c@x": 1},
        "b@x": {"a@x": 2, "c@x": 1},
        "c@x": {"a@x": 1, "b@x": 1},
    }
    ranking = json.loads(bz2.decompress((out / "taar/lite/guid_install_ranking.json.bz2").read_bytes()))
    assert ranking == {"a@x": 2, "b@x": 2, "c@x": 1}
