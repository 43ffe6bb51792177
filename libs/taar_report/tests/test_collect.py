"""Reading the published artifacts and runs from a local bucket, and the CLI's defaults."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import sample_artifacts, write_bucket
from taar_common.storage import Storage
from taar_report.cli import main
from taar_report.collect import artifact_urls, load_artifacts, load_runs


def test_artifacts_are_read_measured_and_checked(sample_bucket):
    artifacts = load_artifacts(Storage(), artifact_urls(str(sample_bucket), str(sample_bucket)))
    assert {name: a.status for name, a in artifacts.items() if a.status != "ok"} == {
        "only_guids_top_200": "check failed"
    }
    assert artifacts["only_guids_top_200"].detail.startswith("enough_guids: only 4 GUIDs (< 100)")
    coinstallation = artifacts["guid_coinstallation"]
    assert coinstallation.url.endswith("taar/lite/guid_coinstallation.json.bz2")
    assert coinstallation.size_bytes == Path(coinstallation.url).stat().st_size
    assert coinstallation.records == 4 and coinstallation.payload == sample_artifacts()["guid_coinstallation"]
    assert artifacts["extended_addons_database"].records == 6
    assert artifacts["lr_curves"].records == 60


def test_allow_shortlist_passes_the_editorial_check(sample_bucket):
    urls = artifact_urls(str(sample_bucket), str(sample_bucket))
    artifacts = load_artifacts(Storage(), urls, {"only_guids_top_200": {"allow_shortlist": True}})
    assert artifacts["only_guids_top_200"].status == "ok"


def test_missing_and_unreadable_artifacts_become_statuses(tmp_path):
    bucket = write_bucket(tmp_path, {"donors": sample_artifacts()["donors"]})
    (bucket / "taar/similarity/lr_curves.json").write_text("{not json")
    artifacts = load_artifacts(Storage(), artifact_urls(str(bucket), str(bucket)))
    assert artifacts["donors"].status == "ok"
    assert artifacts["lr_curves"].status == "unreadable" and "not valid JSON" in artifacts["lr_curves"].detail
    assert artifacts["top10_dict"].status == "missing"
    assert artifacts["top10_dict"].detail == "not found (nor .bz2); run taar-spark-locale"


def test_locale_artifact_is_read_from_the_locale_bucket():
    urls = artifact_urls("gs://main", "gs://private")
    assert urls["top10_dict"] == "gs://private/taar/locale/top10_dict.json"
    assert urls["donors"] == "gs://main/taar/similarity/donors.json"


def test_runs_file_forms_and_problems(tmp_path):
    storage = Storage()
    assert load_runs(storage, str(tmp_path / "none.json")) == ([], f"runs file not found: {tmp_path / 'none.json'}")
    (tmp_path / "wrapped.json").write_text(json.dumps({"runs": [{"job": "a"}, 3]}))
    runs, problem = load_runs(storage, str(tmp_path / "wrapped.json"))
    assert runs == [{"job": "a"}] and "1 entries" in problem
    (tmp_path / "scalar.json").write_text("7")
    assert load_runs(storage, str(tmp_path / "scalar.json"))[1].endswith("is not a JSON list of run summaries")


def test_cli_defaults_read_runs_and_write_next_to_the_artifacts(sample_bucket):
    result = CliRunner().invoke(main, ["--bucket", str(sample_bucket)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "ok" and summary["artifacts"] == [str(sample_bucket / "report.html")]
    assert summary["counts"]["artifacts_ok"] == 12 and summary["counts"]["runs"] == 5
    page = (sample_bucket / "report.html").read_text()
    assert "de (3 add-ons)" in page and "profiles after deletion" in page


def test_cli_on_an_empty_bucket_still_writes_a_page(tmp_path):
    out = tmp_path / "out" / "page.html"
    result = CliRunner().invoke(main, ["--bucket", str(tmp_path / "empty"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["counts"]["artifacts_missing"] == 13
    assert "no runs file" in out.read_text()


def test_cli_fails_when_the_page_cannot_be_written(tmp_path):
    (tmp_path / "file").write_text("")
    result = CliRunner().invoke(main, ["--bucket", str(tmp_path), "--out", str(tmp_path / "file" / "report.html")])
    assert result.exit_code == 1
    assert json.loads(result.stdout.strip().splitlines()[-1])["status"] == "failed"


def test_cli_without_bucket_uses_the_jobs_embedded_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "taar-data" / "telemetry-parquet" / "report.html").read_text()
    assert f"(locale bucket <code>{tmp_path}/taar-data/telemetry-private-analysis-2</code>)" in page
    assert f"top10_dict.json is missing: {tmp_path}/taar-data/telemetry-private-analysis-2/taar/locale/" in page


def test_report_reads_artifacts_from_gcs(gcs_bucket_url, tmp_path):
    storage = Storage()
    artifacts = sample_artifacts()
    urls = artifact_urls(gcs_bucket_url, gcs_bucket_url)
    for name in ("top10_dict", "lr_curves"):
        storage.write_json(urls[name] + (".bz2" if name == "top10_dict" else ""), artifacts[name])
    storage.write_json(urls["lr_curves"].replace(".json", "20240501.json"), artifacts["lr_curves"])
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["--bucket", gcs_bucket_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout.strip().splitlines()[-1])["counts"]
    assert (counts["artifacts_ok"], counts["artifacts_missing"]) == (2, 11)
    page = out.read_text()
    assert f"{gcs_bucket_url}/taar/locale/top10_dict.json.bz2" in page and 'data-figure="lr-curves"' in page
    assert "<h1>TAAR daily models report: data of 2024-05-01</h1>" in page  # from the dated copy on GCS


def test_data_date_is_the_newest_dated_copy_with_the_latest_bytes(tmp_path):
    artifacts = sample_artifacts()
    bucket = write_bucket(tmp_path, artifacts, bz2={"guid_coinstallation"}, date="20240501")
    # a newer dated copy whose latest copy was never written (the run failed in between)
    newer = {"lr_curves": artifacts["lr_curves"][:10]}
    (bucket / "taar/similarity/lr_curves20240502.json").write_bytes(json.dumps(newer["lr_curves"]).encode())
    (bucket / "taar/similarity/donors.json").write_text(json.dumps(artifacts["donors"][:1]))  # no dated copy of this
    found = load_artifacts(Storage(), artifact_urls(str(bucket), str(bucket)))
    assert found["lr_curves"].data_date == "2024-05-01"
    assert found["guid_coinstallation"].data_date == "2024-05-01"  # .json.bz2 pairs with .json.bz2
    assert found["donors"].data_date is None
