"""amodump end to end: the fixture AMO over real HTTP, publishing to the storage emulators."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import FAST_RETRIES, PREFIX, run_cli
from taar_amodump.transform import is_refresh_day
from taar_common.lease import Lease, lease_url
from taar_common.storage import Storage, join_url
from taar_fixtures.amo import AmoFixtureServer, FaultPlan, FaultRule, generate_catalogue
from taar_fixtures.amo.api import AmoApi
from taar_fixtures.amo.catalogue import iso_utc

DAY = "20261127"


def expected_record(catalogue, guid: str, api: str = "v5") -> dict:
    """The fields of the dump record of `guid`, from the catalogue's internal form."""
    addon = catalogue.addon(guid)
    current = addon.current_version
    return {
        "guid": guid,
        "first_create_date": catalogue.first_create_date(guid),
        "created": None if "created" in addon.nulled else iso_utc(addon.created),
        "average_daily_users": addon.average_daily_users,
        "weekly_downloads": addon.weekly_downloads,
        "categories": sorted(addon.categories),
        "tags": list(addon.tags),
        "name": {"en-US": addon.name},
        "is_featured": addon.promoted and "promoted" not in addon.nulled,
        "ratings": None
        if "ratings" in addon.nulled
        else {
            "average": addon.ratings_average,
            "bayesian_average": addon.ratings_bayesian,
            "count": addon.ratings_count,
            "text_count": addon.ratings_text_count,
        },
        "current_version": None
        if "current_version" in addon.nulled
        else {
            "files": [
                {
                    "id": current.file_id,
                    "platform": "all",
                    "status": "public",
                    "is_webextension": addon.is_webextension if api == "v4" else True,
                }
            ]
        },
    }


def assert_dump_matches(dump: dict, catalogue, api: str = "v5") -> None:
    assert sorted(dump) == sorted(catalogue.guids)
    for guid in catalogue.guids:
        expected = expected_record(catalogue, guid, api)
        assert {key: dump[guid][key] for key in expected} == expected, guid


def big_version_count(catalogue) -> int:
    return sum(1 for guid in catalogue.guids if catalogue.n_versions(guid) > 50)


def test_dump_publishes_the_exact_catalogue_to_every_backend(storage_root, small_catalogue, amo):
    run = run_cli("--date", DAY, "--bucket", storage_root, "--amo-url", amo.url, "--workers", "4", *FAST_RETRIES)
    assert run.exit_code == 0, run.stderr[-3000:]
    storage = Storage()
    latest = join_url(storage_root, PREFIX, "extended_addons_database.json")
    dated = join_url(storage_root, PREFIX, f"extended_addons_database{DAY}.json")
    dump = storage.read_json(latest)
    assert storage.read_bytes(dated) == storage.read_bytes(latest)
    assert_dump_matches(dump, small_catalogue)
    assert run.summary["artifacts"] == [dated, latest]
    # page_size=50: 2 search pages; one versions page per add-on plus the last page of the big ones
    n_big = big_version_count(small_catalogue)
    assert n_big > 0
    assert amo.requests_by_kind == {"search": 2, "versions": 80 + n_big}
    counts = run.summary["counts"]
    assert (counts["addons"], counts["missing"], counts["requests"], counts["retries"]) == (80, 0, 82 + n_big, 0)


def test_dump_is_complete_beyond_result_window(tmp_path):
    catalogue = generate_catalogue(520, seed=11)
    with AmoFixtureServer(catalogue, result_window=120) as amo:
        run = run_cli(
            "--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, "--result-window", "120", *FAST_RETRIES
        )
        by_kind = amo.requests_by_kind
    assert run.exit_code == 0, run.stderr[-3000:]
    assert run.summary["counts"]["listing_parts"] >= 5
    assert run.summary["counts"]["addons_listed"] == 520
    dump = Storage().read_json(join_url(str(tmp_path), PREFIX, "extended_addons_database.json"))
    assert_dump_matches(dump, catalogue)
    assert by_kind["versions"] == 520 + big_version_count(catalogue)
    # every page of the accepted parts, plus page 1 of each part that had to be split
    counts = run.summary["counts"]
    assert by_kind["search"] == counts["search_pages"] + counts["split_probes"]
    assert counts["split_probes"] == counts["listing_parts"] - 1


def test_listing_splits_on_users_when_created_cannot_split(tmp_path):
    catalogue = generate_catalogue(150, seed=12)
    catalogue.created[:] = catalogue.created[0]  # every add-on created in the same second
    with AmoFixtureServer(catalogue, result_window=100) as amo:
        run = run_cli(
            "--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, "--result-window", "100", *FAST_RETRIES
        )
    assert run.exit_code == 0, run.stderr[-3000:]
    parts = run.summary["details"]["listing_parts"]
    assert sum(parts.values()) == 150
    holding = [part for part, count in parts.items() if count]
    assert len(holding) >= 2 and all("users__" in part for part in holding), parts
    assert_dump_matches(
        Storage().read_json(join_url(str(tmp_path), PREFIX, "extended_addons_database.json")), catalogue
    )


def test_v4_shape_is_dumped_like_v5_with_real_webextension_flags(tmp_path):
    catalogue = generate_catalogue(150, seed=5)
    assert any(not addon.is_webextension for addon in catalogue)
    with AmoFixtureServer(catalogue) as amo:
        run = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.v4_url, *FAST_RETRIES)
    assert run.exit_code == 0, run.stderr[-3000:]
    assert_dump_matches(
        Storage().read_json(join_url(str(tmp_path), PREFIX, "extended_addons_database.json")), catalogue, "v4"
    )


def test_v4_listing_beyond_the_window_fails_at_once_naming_the_v5_api(tmp_path):
    """v4 has no thresholds to split with (the fixture ignores them as AMO does): no endless split."""
    with AmoFixtureServer(generate_catalogue(150, seed=5)) as amo:
        run = run_cli(
            "--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.v4_url, "--result-window", "100", *FAST_RETRIES
        )  # fmt: skip
        searches = amo.requests_by_kind.get("search", 0)
    assert run.exit_code == 1
    assert "no created__/users__ thresholds" in run.stderr and "v5" in run.stderr
    assert searches == 1
    assert not list(tmp_path.rglob("*.json"))


def test_dump_with_transient_faults_is_complete_and_exact(tmp_path, small_catalogue, amo):
    plan = FaultPlan(
        rules=[
            FaultRule(path=r"addons/search/", kind="status", status=429, retry_after=1, times=1),
            FaultRule(path=r"/versions/", kind="status", status=429, times=4),
            FaultRule(path=r"/versions/", kind="status", status=503, times=3),
            FaultRule(path=r"/versions/", kind="status", status=500, times=2),
            FaultRule(path=r"/versions/", kind="truncate", times=3),
            FaultRule(path=r"addons/search/.*page=2", kind="truncate", times=1),
            FaultRule(path=r"/versions/", kind="invalid", times=2),
            FaultRule(path=r"/versions/", kind="timeout", delay_s=1.5, times=2),
            FaultRule(path=r"/versions/", kind="drop", times=2),
        ],
        seed=1,
    )
    amo.set_faults(plan)
    run = run_cli(
        "--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, "--workers", "4",
        "--retries", "6", "--retry-backoff", "0.01", "--http-timeout", "0.5",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr[-3000:]
    assert amo.faults_fired == {"429": 5, "503": 3, "500": 2, "truncate": 4, "invalid": 2, "timeout": 2, "drop": 2}
    assert_dump_matches(
        Storage().read_json(join_url(str(tmp_path), PREFIX, "extended_addons_database.json")), small_catalogue
    )
    counts = run.summary["counts"]
    assert counts["retries"] >= 20
    assert counts["malformed"] == 6
    assert counts["missing"] == 0


def _seed_previous_artifacts(root: str) -> dict[str, bytes]:
    storage = Storage()
    previous = {
        join_url(root, PREFIX, "extended_addons_database.json"): b'{"old@x": "latest"}',
        join_url(root, PREFIX, f"extended_addons_database{DAY}.json"): b'{"old@x": "dated"}',
    }
    for url, data in previous.items():
        storage.write_bytes(url, data)
    return previous


def _quoted_guid(catalogue) -> str:
    guid = next(g for g in catalogue.guids if "+" in g or "{" in g)
    assert quote(guid, safe="") != guid
    return guid


def test_permanently_failing_versions_url_fails_and_keeps_previous_artifacts(gcs_bucket_url, small_catalogue, amo):
    storage_root = gcs_bucket_url
    guid = _quoted_guid(small_catalogue)
    amo.set_faults(FaultPlan(rules=[FaultRule(path=re.escape(quote(guid, safe="")), kind="status", status=503)]))
    previous = _seed_previous_artifacts(storage_root)
    run = run_cli("--date", DAY, "--bucket", storage_root, "--amo-url", amo.url, *FAST_RETRIES)
    assert run.exit_code == 1
    assert run.summary["status"] == "failed"
    assert f"1 add-ons failed after retries (> --max-missing 0): {guid}" in run.summary["error"]
    assert list(run.summary["details"]["missing"]) == [guid]
    assert run.summary["artifacts"] == []
    storage = Storage()
    assert {url: storage.read_bytes(url) for url in previous} == previous


def test_max_missing_publishes_without_the_failed_add_on_and_lists_it(tmp_path, small_catalogue, amo):
    guid = _quoted_guid(small_catalogue)
    amo.set_faults(FaultPlan(rules=[FaultRule(path=re.escape(quote(guid, safe="")), kind="timeout", delay_s=1.0)]))
    run = run_cli(
        "--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, "--max-missing", "1",
        "--retries", "1", "--retry-backoff", "0.01", "--http-timeout", "0.3",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr[-3000:]
    assert run.summary["counts"]["missing"] == 1
    assert list(run.summary["details"]["missing"]) == [guid]
    assert "timed out" in run.summary["details"]["missing"][guid].lower()
    dump = Storage().read_json(join_url(str(tmp_path), PREFIX, "extended_addons_database.json"))
    assert sorted(dump) == sorted(set(small_catalogue.guids) - {guid})


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (FaultRule(path=r"addons/search/.*page=2", kind="status", status=502), "page=2"),
        (FaultRule(path=r"addons/search/.*page=2", kind="truncate"), "body is not valid JSON"),
        (FaultRule(path=r"addons/search/.*page=2", kind="status", status=429), "page=2"),
    ],
    ids=["502", "truncated", "429-no-retry-after"],
)
def test_search_page_failing_after_retries_fails_and_publishes_nothing(tmp_path, amo, rule, message):
    amo.set_faults(FaultPlan(rules=[rule]))
    run = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, *FAST_RETRIES)
    assert run.exit_code == 1
    assert "listing failed" in run.summary["error"] and message in run.summary["error"]
    assert not list(Path(tmp_path).rglob("*.json"))


def test_dirty_catalogue_keeps_every_add_on_with_explicit_nulls(tmp_path):
    catalogue = generate_catalogue(400, seed=2, dirty=True)
    nulled = {
        field: [a.guid for a in catalogue if field in a.nulled]
        for field in ("ratings", "current_version", "promoted", "created")
    }
    assert all(nulled.values())
    with AmoFixtureServer(catalogue) as amo:
        run = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, "--workers", "4", *FAST_RETRIES)
    assert run.exit_code == 0, run.stderr[-3000:]
    dump = Storage().read_json(join_url(str(tmp_path), PREFIX, "extended_addons_database.json"))
    assert_dump_matches(dump, catalogue)
    assert [dump[g]["ratings"] for g in nulled["ratings"]] == [None] * len(nulled["ratings"])
    assert [dump[g]["promoted"] for g in nulled["promoted"]] == [[]] * len(nulled["promoted"])


class _MiscountingApi(AmoApi):
    """An AMO whose unsplit count is one more than its parts hold (a catalogue changing mid-run)."""

    def search(self, api, params, page_url):
        status, body = super().search(api, params, page_url)
        if status == 200 and not any(k.startswith(("created__", "users__")) for k, _ in params):
            payload = json.loads(body)
            payload["count"] += 1
            body = json.dumps(payload).encode()
        return status, body


def test_parts_not_adding_up_fail_naming_the_gap(tmp_path):
    catalogue = generate_catalogue(130, seed=4)
    with AmoFixtureServer(catalogue, result_window=100) as amo:
        amo.api = _MiscountingApi(catalogue, result_window=100)
        run = run_cli(
            "--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, "--result-window", "100", *FAST_RETRIES
        )
    assert run.exit_code == 1
    assert "but the unsplit query counts 131 (gap 1)" in run.summary["error"]
    assert not list(Path(tmp_path).rglob("*.json"))


class _BrokenEnvelopeApi(AmoApi):
    """An AMO whose search page 2 answers valid JSON without a `results` list."""

    def __init__(self, catalogue, results):
        super().__init__(catalogue)
        self.broken_results = results

    def search(self, api, params, page_url):
        status, body = super().search(api, params, page_url)
        if dict(params).get("page") == "2":
            payload = json.loads(body)
            payload["results"] = self.broken_results
            if self.broken_results == "absent":
                del payload["results"]
            body = json.dumps(payload).encode()
        return status, body


@pytest.mark.parametrize("results", ["absent", None, {"guid": "a@x"}], ids=["missing", "null", "object"])
def test_page_without_a_results_list_fails_naming_the_url(tmp_path, small_catalogue, amo, results):
    amo.api = _BrokenEnvelopeApi(small_catalogue, results)
    run = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, *FAST_RETRIES)
    assert run.exit_code == 1
    assert re.search(r"addons/search/\?[^ ]*page=2[^ ]*: 'results' is missing or not a list", run.summary["error"])
    assert not list(Path(tmp_path).rglob("*.json"))


def test_console_script_runs_on_embedded_defaults_with_bz2(tmp_path, amo, small_catalogue):
    script = Path(sys.executable).with_name("taar-amodump")
    result = subprocess.run(
        [str(script), "--date", "2026-11-27", "--amo-url", amo.url, "--compress", "bz2", "--progress-interval", "0.2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    folder = tmp_path / "taar-data" / "telemetry-parquet" / "telemetry-ml" / "addon_recommender"
    assert sorted(p.name for p in folder.iterdir()) == [
        "extended_addons_database.json.bz2",
        f"extended_addons_database{DAY}.json.bz2",
    ]
    assert summary["status"] == "ok" and summary["counts"]["addons"] == 80
    assert_dump_matches(Storage().read_artifact(str(folder / "extended_addons_database.json")), small_catalogue)
    assert "progress: search pages 2/2, add-ons 80/80 dated, 0 missing" in result.stderr


def test_python_dash_m_explains_every_option():
    result = subprocess.run([sys.executable, "-m", "taar_amodump", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for option in ["--date", "--bucket", "--prefix", "--amo-url", "--workers", "--max-missing", "--compress"]:
        assert option in result.stdout


# --- incremental dumps ---------------------------------------------------------------------


def _dump_run(root, amo, day: str, *extra: str):
    run = run_cli("--date", day, "--bucket", str(root), "--amo-url", amo.url, "--workers", "4", *extra, *FAST_RETRIES)
    assert run.exit_code == 0, run.stderr[-3000:]
    return run


def _dated(root, day: str) -> bytes:
    return Storage().read_bytes(join_url(str(root), PREFIX, f"extended_addons_database{day}.json"))


def _due(guid: str, day: str) -> bool:
    return is_refresh_day(guid, dt.datetime.strptime(day, "%Y%m%d").date(), Fraction(1, 7))


def test_incremental_dump_equals_full_dump_byte_for_byte(tmp_path):
    catalogue = generate_catalogue(300, seed=8)
    new = catalogue.guids[100:105]
    with AmoFixtureServer(catalogue) as amo:
        _dump_run(tmp_path / "full", amo, "20261126", "--full")
        previous = Storage().read_json(join_url(str(tmp_path / "full"), PREFIX, "extended_addons_database.json"))
        for guid in new:  # as if they were listed after yesterday's dump
            del previous[guid]
        previous_url = str(tmp_path / "previous.json")
        Storage().write_bytes(previous_url, json.dumps(previous).encode())
        default = _dump_run(tmp_path / "full", amo, "20261127")  # reuses the latest copy found there
        assert default.summary["details"]["mode"] == "incremental"
        full = _dump_run(tmp_path / "again", amo, "20261127", "--full")
        before = amo.requests_by_kind["versions"]
        incremental = _dump_run(tmp_path / "incremental", amo, "20261127", "--previous", previous_url)
        versions_requests = amo.requests_by_kind["versions"] - before
    assert _dated(tmp_path / "incremental", "20261127") == _dated(tmp_path / "again", "20261127")
    due = {g for g in catalogue.guids if g not in new and _due(g, "20261127")}
    counts = incremental.summary["counts"]
    assert counts["versions_fetched"] == len(due) + len(new)
    assert counts["versions_reused"] == 300 - len(due) - len(new)
    big = sum(1 for g in set(new) | due if catalogue.n_versions(g) > 50)
    assert versions_requests == len(due) + len(new) + big
    assert full.summary["counts"]["versions_fetched"] == 300
    assert incremental.summary["details"]["previous"] == previous_url


def test_changed_oldest_version_is_caught_on_its_refresh_day(tmp_path):
    catalogue = generate_catalogue(120, seed=9)
    with AmoFixtureServer(catalogue) as amo:
        _dump_run(tmp_path, amo, "20261120", "--full")
        guid = catalogue.guids[7]
        days = [(dt.date(2026, 11, 21) + dt.timedelta(days=k)).strftime("%Y%m%d") for k in range(7)]
        quiet = next(day for day in days if not _due(guid, day))
        refresh = next(day for day in days if _due(guid, day))
        before = catalogue.first_create_date(guid)
        offset = int(catalogue._c["version_offsets"][catalogue.index_of(guid)])
        catalogue._c["version_created"][offset] -= 86_400  # AMO now shows an older oldest version
        changed = catalogue.first_create_date(guid)
        assert changed != before
        _dump_run(tmp_path, amo, quiet)
        stale = json.loads(_dated(tmp_path, quiet))[guid]["first_create_date"]
        _dump_run(tmp_path, amo, refresh)
        caught = json.loads(_dated(tmp_path, refresh))[guid]["first_create_date"]
    assert (stale, caught) == (before, changed)


def test_unreadable_explicit_previous_fails_naming_it(tmp_path, amo):
    missing = str(tmp_path / "nowhere.json")
    run = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, "--previous", missing, *FAST_RETRIES)
    assert run.exit_code == 1
    assert f"--previous {missing} is not readable" in run.summary["error"]
    assert not list(Path(tmp_path).rglob("*.json"))


def test_refresh_fraction_zero_reads_only_new_add_ons(tmp_path, small_catalogue, amo):
    _dump_run(tmp_path, amo, "20261126", "--full")
    before = amo.requests_by_kind["versions"]
    run = _dump_run(tmp_path, amo, "20261127", "--refresh-fraction", "0")
    assert amo.requests_by_kind["versions"] == before
    assert (run.summary["counts"]["versions_fetched"], run.summary["counts"]["versions_reused"]) == (0, 80)


# --- one run at a time, and the shrink guard ----------------------------------------------------


def test_a_run_while_another_holds_the_lease_fails_naming_the_holder(storage_root, amo):
    _dump_run(storage_root, amo, "20261126", "--full")
    storage = Storage()
    latest = join_url(storage_root, PREFIX, "extended_addons_database.json")
    before = storage.read_bytes(latest)
    with Lease(storage, lease_url(storage_root, PREFIX, "amodump"), "amodump") as held:
        run = run_cli("--date", DAY, "--bucket", storage_root, "--amo-url", amo.url, *FAST_RETRIES)
    assert run.exit_code == 1
    assert "LeaseHeldError" in run.summary["error"] and f"run_id={held.run_id}" in run.summary["error"]
    assert storage.read_bytes(latest) == before
    assert not storage.exists(join_url(storage_root, PREFIX, f"extended_addons_database{DAY}.json"))
    assert run.summary["artifacts"] == []


def test_a_much_smaller_catalogue_trips_the_shrink_guard_unless_allowed(tmp_path, amo):
    _dump_run(tmp_path, amo, "20261126", "--full")
    latest = join_url(str(tmp_path), PREFIX, "extended_addons_database.json")
    before = Storage().read_bytes(latest)
    # the incremental run reads yesterday's 80-add-on dump for its dates, then lists only 20
    with AmoFixtureServer(generate_catalogue(20, seed=3)) as shrunk:
        run = run_cli("--date", DAY, "--bucket", str(tmp_path), "--amo-url", shrunk.url, *FAST_RETRIES)
        assert run.exit_code == 1
        assert run.summary["details"]["mode"] == "incremental"
        assert "PublishGuardError" in run.summary["error"]
        assert "has 20 records" in run.summary["error"] and "has 80" in run.summary["error"]
        assert Storage().read_bytes(latest) == before
        assert not Storage().exists(join_url(str(tmp_path), PREFIX, f"extended_addons_database{DAY}.json"))
        allowed = _dump_run(tmp_path, shrunk, DAY, "--allow-shrink")
    assert allowed.summary["counts"]["addons"] == 20
    assert len(Storage().read_json(latest)) == 20


def test_sigterm_mid_crawl_exits_143_with_the_summary_and_leaves_nothing(tmp_path):
    """What Kubernetes sends a pod: the run unwinds (lease released, no temp files), prints its
    failed summary and exits 143; the previous latest dump stays."""
    storage = Storage()
    latest = join_url(str(tmp_path), PREFIX, "extended_addons_database.json")
    storage.write_json(latest, {"kept@x": {"guid": "kept@x"}})
    script = Path(sys.executable).with_name("taar-amodump")
    with AmoFixtureServer(generate_catalogue(400, seed=3), latency_s=0.05) as amo:
        process = subprocess.Popen(
            [script, "--date", DAY, "--bucket", str(tmp_path), "--amo-url", amo.url, "--full", "--workers", "2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lease = lease_url(str(tmp_path), PREFIX, "amodump")
        deadline = dt.datetime.now() + dt.timedelta(seconds=60)
        while not (storage.exists(lease) and amo.requests_by_kind.get("versions", 0) >= 5):
            assert process.poll() is None and dt.datetime.now() < deadline, process.communicate()
            time.sleep(0.05)
        process.send_signal(15)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr[-2000:]
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["status"] == "failed" and summary["error"].startswith("Terminated")
    assert not storage.exists(lease)
    assert storage.read_json(latest) == {"kept@x": {"guid": "kept@x"}}
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["extended_addons_database.json"]
