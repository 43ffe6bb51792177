"""update_whitelist end to end: the fixture AMO's editorial endpoint -> only_guids_top_200.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from taar_common.lease import Lease, lease_url
from taar_common.storage import Storage, join_url
from taar_fixtures.amo import AmoFixtureServer, EditorialEntry, FaultPlan, FaultRule, generate_catalogue
from taar_update_whitelist.cli import main

PREFIX = "telemetry-ml/addon_recommender/"
DAY = "20261127"
FAST = ["--retries", "3", "--retry-backoff", "0.01", "--http-timeout", "1"]


def run_cli(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


@pytest.fixture(scope="module")
def dirty_catalogue():
    return generate_catalogue(300, seed=7, n_editorial=150, dirty=True)


def test_publishes_sorted_unique_editorial_guids_to_every_backend(storage_root, dirty_catalogue):
    with AmoFixtureServer(dirty_catalogue) as amo:
        code, summary, stderr = run_cli("--date", DAY, "--bucket", storage_root, "--amo-url", amo.url, *FAST)
        by_kind = amo.requests_by_kind
    assert code == 0, stderr[-2000:]
    expected = dirty_catalogue.editorial_guids()
    assert len(expected) == 150
    storage = Storage()
    assert storage.read_json(join_url(storage_root, PREFIX, "only_guids_top_200.json")) == expected
    assert storage.read_json(join_url(storage_root, PREFIX, f"only_guids_top_200{DAY}.json")) == expected
    counts = summary["counts"]
    assert (counts["editorial_entries"], counts["guids"], counts["dropped_empty"], counts["duplicates"]) == (
        154,
        150,
        2,
        2,
    )
    assert by_kind == {"editorial": 1}


def test_validate_guids_uses_batched_search_queries(tmp_path, dirty_catalogue):
    with AmoFixtureServer(dirty_catalogue) as amo:
        code, summary, stderr = run_cli(
            "--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, "--validate-guids", *FAST
        )
        by_kind = amo.requests_by_kind
    assert code == 0, stderr[-2000:]
    assert by_kind == {"editorial": 1, "search": 3}  # 150 GUIDs, 50 per guid= query


def test_unknown_guid_fails_validation_naming_it(tmp_path):
    catalogue = generate_catalogue(200, seed=8, n_editorial=120)
    catalogue.editorial.append(EditorialEntry("ghost+addon@example.org", "Not in the catalogue."))
    with AmoFixtureServer(catalogue) as amo:
        code, summary, _ = run_cli(
            "--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, "--validate-guids", *FAST
        )
    assert code == 1
    assert "1 editorial GUIDs unknown to AMO search: ghost+addon@example.org" in summary["error"]
    assert summary["details"]["unknown_guids"] == ["ghost+addon@example.org"]
    assert not list(Path(tmp_path).rglob("*.json"))


def test_shortlist_fails_unless_allowed(tmp_path):
    catalogue = generate_catalogue(100, seed=9, n_editorial=40)
    with AmoFixtureServer(catalogue) as amo:
        code, summary, _ = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, *FAST)
        assert code == 1
        assert "only_guids_top_200: check 'enough_guids' failed: only 40 GUIDs (< 100)" in summary["error"]
        assert not list(Path(tmp_path).rglob("*.json"))
        code, summary, _ = run_cli(
            "--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.v4_url, "--allow-shortlist", *FAST
        )
    assert code == 0
    assert (
        Storage().read_json(join_url(str(tmp_path), PREFIX, "only_guids_top_200.json")) == catalogue.editorial_guids()
    )


@pytest.mark.parametrize(
    "rule",
    [
        FaultRule(path="editorial", kind="status", status=429, retry_after=1, times=1),
        FaultRule(path="editorial", kind="status", status=429, times=2),
        FaultRule(path="editorial", kind="truncate", times=2),
        FaultRule(path="editorial", kind="timeout", delay_s=1.5, times=1),
    ],
    ids=["429-retry-after", "429", "truncated", "timeout"],
)
def test_transient_faults_are_retried(tmp_path, dirty_catalogue, rule):
    with AmoFixtureServer(dirty_catalogue, faults=FaultPlan(rules=[rule])) as amo:
        code, summary, stderr = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, *FAST)
    assert code == 0, stderr[-2000:]
    assert summary["counts"]["retries"] >= 1
    assert (
        Storage().read_json(join_url(str(tmp_path), PREFIX, "only_guids_top_200.json"))
        == dirty_catalogue.editorial_guids()
    )


def test_permanent_failure_keeps_the_previous_list(s3_bucket_url, dirty_catalogue):
    latest = join_url(s3_bucket_url, PREFIX, "only_guids_top_200.json")
    Storage().write_bytes(latest, b'["previous@x"]')
    with AmoFixtureServer(dirty_catalogue, faults=FaultPlan(rules=[FaultRule(path="editorial", status=503)])) as amo:
        code, summary, _ = run_cli("--date", DAY, "--bucket", s3_bucket_url, "--amo-url", amo.url, *FAST)
    assert code == 1
    assert "discovery/editorial/" in summary["error"]
    assert Storage().read_bytes(latest) == b'["previous@x"]'
    assert Storage().list_prefix(join_url(s3_bucket_url, PREFIX)) == [latest]


def test_console_script_on_embedded_defaults(tmp_path, dirty_catalogue):
    script = Path(sys.executable).with_name("taar-update-whitelist")
    with AmoFixtureServer(dirty_catalogue) as amo:
        result = subprocess.run(
            [str(script), "--date", "2026-11-27", "--amo-url", amo.url, "--compress", "bz2"],
            cwd=tmp_path, capture_output=True, text=True, env={**os.environ}, timeout=60,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    folder = tmp_path / "taar-data" / "telemetry-parquet" / "telemetry-ml" / "addon_recommender"
    assert Storage().read_artifact(str(folder / "only_guids_top_200.json")) == dirty_catalogue.editorial_guids()
    assert json.loads(result.stdout.strip().splitlines()[-1])["status"] == "ok"


def test_a_run_while_another_holds_the_lease_fails_naming_the_holder(storage_root, dirty_catalogue):
    storage = Storage()
    latest = join_url(storage_root, PREFIX, "only_guids_top_200.json")
    storage.write_bytes(latest, b'["previous@x"]')
    with AmoFixtureServer(dirty_catalogue) as amo:
        with Lease(storage, lease_url(storage_root, PREFIX, "update_whitelist"), "update_whitelist") as held:
            code, summary, _ = run_cli("--date", DAY, "--bucket", storage_root, "--amo-url", amo.url, *FAST)
    assert code == 1
    assert "LeaseHeldError" in summary["error"] and f"run_id={held.run_id}" in summary["error"]
    assert storage.read_bytes(latest) == b'["previous@x"]'
    assert not storage.exists(join_url(storage_root, PREFIX, f"only_guids_top_200{DAY}.json"))


def test_a_much_shorter_editorial_list_trips_the_shrink_guard_unless_allowed(tmp_path, dirty_catalogue):
    with AmoFixtureServer(dirty_catalogue) as amo:
        assert run_cli("--date", "20261126", "--bucket", str(tmp_path), "--amo-url", amo.url, *FAST)[0] == 0
    latest = join_url(str(tmp_path), PREFIX, "only_guids_top_200.json")
    before = Storage().read_bytes(latest)
    shorter = generate_catalogue(300, seed=7, n_editorial=110)  # 150 -> 110 GUIDs: a fall of 27%
    with AmoFixtureServer(shorter) as amo:
        code, summary, _ = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, *FAST)
        assert code == 1
        assert "PublishGuardError" in summary["error"]
        assert "has 110 records" in summary["error"] and "has 150" in summary["error"]
        assert Storage().read_bytes(latest) == before
        assert not Storage().exists(join_url(str(tmp_path), PREFIX, f"only_guids_top_200{DAY}.json"))
        allowed = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, "--allow-shrink", *FAST)
    assert allowed[0] == 0
    assert Storage().read_json(latest) == shorter.editorial_guids()
