"""amowhitelist end to end: a dump in storage (local, moto S3, fake GCS) -> three published lists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from taar_amowhitelist.cli import main
from taar_common.lease import Lease, lease_url
from taar_common.storage import Storage, join_url

PREFIX = "telemetry-ml/addon_recommender/"
DAY = "20261127"


def record(guid, average=4.0, first="2026-01-01T10:00:00Z", webext=True, featured=False):
    return {
        "guid": guid,
        "categories": ["tabs"],
        "default_locale": "en-US",
        "description": {"en-US": "d"},
        "name": {"en-US": guid},
        "summary": {"en-US": "s"},
        "tags": [],
        "weekly_downloads": 1,
        "average_daily_users": 10,
        "ratings": None
        if average is None
        else {"average": average, "bayesian_average": average, "count": 3, "text_count": 1},
        "current_version": {"files": [{"id": 1, "platform": "all", "status": "public", "is_webextension": webext}]},
        "promoted": [{"category": "recommended", "apps": ["firefox"]}] if featured else [],
        "is_featured": featured,
        "created": first,
        "first_create_date": first,
    }


DUMP = {
    "good@x": record("good@x"),
    "{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}": record("{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}", featured=True),
    "young-featured@x": record("young-featured@x", featured=True, first="2026-11-01T00:00:00Z"),
    "pioneer-opt-in@mozilla.org": record("pioneer-opt-in@mozilla.org"),
    "legacy@x": record("legacy@x", webext=False),
    "low@x": record("low@x", average=2.5),
    "unrated@x": record("unrated@x", average=None),
}


def run_cli(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def dump_url(root, day=DAY, suffix=".json"):
    return join_url(root, PREFIX, f"extended_addons_database{day}{suffix}")


def test_publishes_the_three_lists_to_every_backend(storage_root):
    storage = Storage()
    storage.write_json(dump_url(storage_root), DUMP)
    code, summary, stderr = run_cli("--date", DAY, "--bucket", storage_root)
    assert code == 0, stderr[-2000:]
    expected = {
        "whitelist_addons_database": ["good@x", "{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}"],
        "featured_addons_database": ["young-featured@x", "{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}"],
        "featured_whitelist_addons": ["{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}"],
    }
    for name, guids in expected.items():
        latest = storage.read_json(join_url(storage_root, PREFIX, f"{name}.json"))
        dated = storage.read_json(join_url(storage_root, PREFIX, f"{name}{DAY}.json"))
        assert latest == dated == {g: DUMP[g] for g in guids}
    assert summary["counts"] == {"dump_addons": 7, "whitelist": 2, "featured": 2, "featured_whitelist": 1}
    assert summary["details"]["rejected"] == {
        "low_rating": 1,
        "no_rating": 1,
        "not_webextension": 1,
        "pioneer": 1,
        "too_young": 1,
    }
    assert len(summary["artifacts"]) == 6


def test_dump_that_is_not_json_fails_naming_the_file(tmp_path):
    url = dump_url(str(tmp_path))
    Storage().write_bytes(url, b'{"good@x": {"guid": "good@x", "rat')
    code, summary, _ = run_cli("--date", DAY, "--bucket", str(tmp_path))
    assert code == 1
    assert f"{url} is not valid JSON" in summary["error"]
    assert sorted(p.name for p in Path(tmp_path).rglob("*.json")) == [f"extended_addons_database{DAY}.json"]


def test_dated_dump_of_the_run_date_is_preferred_over_the_latest(tmp_path):
    storage = Storage()
    storage.write_json(dump_url(str(tmp_path)), {"good@x": DUMP["good@x"]})
    storage.write_json(dump_url(str(tmp_path), day=""), DUMP)
    code, summary, _ = run_cli("--date", DAY, "--bucket", str(tmp_path))
    assert code == 0
    assert summary["details"]["dump"] == dump_url(str(tmp_path))
    assert summary["counts"]["dump_addons"] == 1


def test_latest_bz2_dump_is_read_when_no_dated_copy_exists(tmp_path):
    Storage().write_json(dump_url(str(tmp_path), day="", suffix=".json.bz2"), DUMP)
    code, summary, stderr = run_cli("--date", DAY, "--bucket", str(tmp_path), "--compress", "bz2")
    assert code == 0, stderr[-2000:]
    assert summary["counts"]["whitelist"] == 2
    assert Storage().read_artifact(join_url(str(tmp_path), PREFIX, "whitelist_addons_database.json.bz2")).keys() == {
        "good@x",
        "{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}",
    }


def test_missing_dump_fails_naming_where_it_looked(tmp_path):
    code, summary, _ = run_cli("--date", DAY, "--bucket", str(tmp_path))
    assert code == 1
    assert dump_url(str(tmp_path)) in summary["error"] and "run taar-amodump first" in summary["error"]


def test_empty_whitelist_fails_the_check_and_keeps_previous_lists(gcs_bucket_url):
    storage = Storage()
    storage.write_json(dump_url(gcs_bucket_url), {"low@x": DUMP["low@x"]})
    previous = join_url(gcs_bucket_url, PREFIX, "whitelist_addons_database.json")
    storage.write_bytes(previous, b'{"previous": 1}')
    code, summary, _ = run_cli("--date", DAY, "--bucket", gcs_bucket_url)
    assert code == 1
    assert "whitelist_addons_database: check 'non_empty' failed" in summary["error"]
    assert storage.read_bytes(previous) == b'{"previous": 1}'
    assert storage.list_prefix(join_url(gcs_bucket_url, PREFIX, "featured")) == []


def test_rerun_of_an_old_date_gives_the_same_bytes(tmp_path):
    storage = Storage()
    dump = {**DUMP, "mid@x": record("mid@x", first="2026-06-01T00:00:00Z")}
    for day in ("20260302", "20261127"):
        storage.write_json(dump_url(str(tmp_path), day=day), dump)
    outputs = []
    for day, guard in (("20260302", []), ("20261127", []), ("20260302", ["--allow-shrink"])):
        # the rerun replaces a latest of 3 add-ons with 2: a backfill must say the fall is expected
        code, _, _ = run_cli("--date", day, "--bucket", str(tmp_path), *guard)
        assert code == 0
        outputs.append(storage.read_bytes(join_url(str(tmp_path), PREFIX, f"whitelist_addons_database{day}.json")))
    assert outputs[0] == outputs[2]
    assert sorted(json.loads(outputs[0])) == ["good@x", "{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}"]
    assert sorted(json.loads(outputs[1])) == ["good@x", "mid@x", "{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}"]


def test_console_script_on_embedded_defaults(tmp_path):
    folder = tmp_path / "taar-data" / "telemetry-parquet" / "telemetry-ml" / "addon_recommender"
    Storage().write_json(str(folder / f"extended_addons_database{DAY}.json"), DUMP)
    script = Path(sys.executable).with_name("taar-amowhitelist")
    result = subprocess.run(
        [str(script), "--date", "2026-11-27", "--min-rating", "2.0", "--min-age", "0"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ}, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    whitelist = json.loads((folder / "whitelist_addons_database.json").read_text())
    assert sorted(whitelist) == ["good@x", "low@x", "young-featured@x", "{6f1d0a3e-0c1b-4c55-9a6e-2f7d1b0e9c11}"]
    assert json.loads(result.stdout.strip().splitlines()[-1])["status"] == "ok"


OUTPUTS = ("whitelist_addons_database", "featured_addons_database", "featured_whitelist_addons")


def test_a_run_while_another_holds_the_lease_fails_naming_the_holder(storage_root):
    storage = Storage()
    storage.write_json(dump_url(storage_root), DUMP)
    with Lease(storage, lease_url(storage_root, PREFIX, "amowhitelist"), "amowhitelist") as held:
        code, summary, _ = run_cli("--date", DAY, "--bucket", storage_root)
    assert code == 1
    assert "LeaseHeldError" in summary["error"] and f"run_id={held.run_id}" in summary["error"]
    assert [u for u in storage.list_prefix(join_url(storage_root, PREFIX) + "/") if "whitelist" in u] == []


def test_shrinking_whitelist_fails_naming_both_counts_unless_allowed(tmp_path):
    storage = Storage()
    storage.write_json(dump_url(str(tmp_path)), DUMP)
    assert run_cli("--date", DAY, "--bucket", str(tmp_path))[0] == 0
    storage.write_json(dump_url(str(tmp_path)), {"good@x": DUMP["good@x"]})
    code, summary, _ = run_cli("--date", DAY, "--bucket", str(tmp_path))
    assert code == 1 and "has 1 records" in summary["error"] and "has 2" in summary["error"]
    assert len(storage.read_json(join_url(str(tmp_path), PREFIX, "whitelist_addons_database.json"))) == 2
    assert run_cli("--date", DAY, "--bucket", str(tmp_path), "--allow-shrink")[0] == 0


# Each write stalls a little, so two runs started together overlap in their publish.
SLOW_RUN = """
import sys, time
from taar_common.storage import Storage
real_write = Storage.write_bytes
def slow_write(self, *args, **kwargs):
    time.sleep(0.3)
    return real_write(self, *args, **kwargs)
Storage.write_bytes = slow_write
from taar_amowhitelist.cli import main
main(sys.argv[1:])
"""


def _dump_of(tag: str) -> dict:
    guids = [f"{tag}-{i}@x" for i in range(3)]
    return {g: record(g, featured=i == 0) for i, g in enumerate(guids)}


@pytest.mark.parametrize("storage_root", ["local", "gcs"], indirect=True)
def test_two_concurrent_runs_never_mix_artifact_sets(storage_root):
    storage = Storage()
    dumps = {tag: join_url(storage_root, "dumps", f"{tag}.json") for tag in ("a", "b")}
    for tag, url in dumps.items():
        storage.write_json(url, _dump_of(tag))
    collisions = 0
    for _ in range(3):
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", SLOW_RUN, "--date", DAY, "--bucket", storage_root, "--dump-url", url],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for url in dumps.values()
        ]
        for process in runs:
            stdout, stderr = process.communicate(timeout=120)
            summary = json.loads(stdout.strip().splitlines()[-1])
            if process.returncode != 0:
                collisions += 1
                assert "another run holds" in summary["error"] and "pid=" in summary["error"], summary
        latest = {name: storage.read_json(join_url(storage_root, PREFIX, f"{name}.json")) for name in OUTPUTS}
        tags = {guid.split("-")[0] for payload in latest.values() for guid in payload}
        assert len(tags) == 1, f"mixed artifact sets: {latest}"
        assert set(latest["featured_whitelist_addons"]) <= set(latest["whitelist_addons_database"])
        assert not storage.exists(lease_url(storage_root, PREFIX, "amowhitelist"))
        time.sleep(0.1)
    assert collisions >= 1, "the runs never overlapped: the test did not exercise the lease"
