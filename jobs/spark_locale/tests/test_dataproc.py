"""spark_locale's Dataproc path (taar_testing.dataproc): the bundle with its entry module, and
spark-submit of it from an empty folder publishing a hand-made day's per-locale lists."""

from __future__ import annotations

import bz2
import datetime as dt
import json

import pytest
from taar_fixtures.handmade import addon, client, write_partition, write_whitelist
from taar_testing.dataproc import dataproc_fixture

DAY = dt.date(2026, 11, 27)

dataproc = dataproc_fixture("spark_locale")


def test_bundle_holds_the_job_and_taar_common(dataproc):
    assert {
        "taar_spark_locale/cli.py",
        "taar_spark_locale/entry.py",
        "taar_common/spark.py",
    } <= dataproc.bundle.entries()
    assert dataproc.bundle.strays() == []
    assert {"click==8.5.1", "numpy==2.4.6"} <= dataproc.bundle.pins()


def test_spark_submit_runs_the_bundle_from_an_empty_folder(dataproc, tmp_path):
    rows = [
        client("c1", [addon("a@x"), addon("b@x")]),
        client("c2", [addon("a@x")]),
        client("c3", [addon("b@x")], locale="de"),
        client(None, [addon("a@x")]),
    ]
    data = write_partition(tmp_path / "clients_daily", DAY, rows)
    whitelist = write_whitelist(tmp_path, ["a@x", "b@x", "c@x"])
    out = tmp_path / "bucket"
    args = [
        "--date", f"{DAY:%Y%m%d}", "--input", str(data), "--whitelist-url", str(whitelist),
        "--bucket", str(out), "--compress", "bz2", "--epsilon", "1e12", "--max-addons-per-client", "5",
    ]  # fmt: skip
    summary = dataproc.submit(args, workdir=tmp_path / "empty")
    assert summary["status"] == "ok" and summary["counts"]["null_client_id_rows"] == 1
    top = json.loads(bz2.decompress((out / "taar/locale/top10_dict.json.bz2").read_bytes()))
    assert sorted(top) == ["de", "en-US"]
    assert [g for g, _ in top["en-US"]] == ["a@x", "b@x", "c@x"]  # counts 2, 1, 0: noise ~1e-12
    assert [w for _, w in top["en-US"]] == pytest.approx([2 / 3, 1 / 3, 0.0], abs=1e-9)
    assert top["de"][0][0] == "b@x" and top["de"][0][1] == pytest.approx(1.0, abs=1e-9)
