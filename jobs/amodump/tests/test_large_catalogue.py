"""The full-size dump: 31,500 add-ons through AMO's 25,000 window behind ~5% injected faults.

One fixture server and one full dump serve both tests (the dump is the slow part): the
dump must be exact, and a later run on which one add-on fails permanently must exit
non-zero and leave that dump, the latest copy, untouched. Marked `slow`; `make test` runs it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import PREFIX
from taar_common.storage import Storage, join_url
from taar_fixtures.amo import AmoFixtureServer, FaultPlan, FaultRule, generate_catalogue
from taar_fixtures.amo.catalogue import Catalogue

pytestmark = pytest.mark.slow

ADDONS = 31_500
FAULT_RATE = 0.05
DAY, NEXT_DAY = "20261127", "20261128"
SCRIPT = str(Path(sys.executable).with_name("taar-amodump"))
# fast retries: the fixture answers in microseconds, so waiting longer between tries proves nothing
RETRIES = ["--retries", "8", "--retry-backoff", "0.02", "--http-timeout", "10", "--progress-interval", "10"]


@dataclass
class Run:
    returncode: int
    summary: dict
    stderr: str


def run_script(*args: str) -> Run:
    result = subprocess.run([SCRIPT, *args, *RETRIES], capture_output=True, text=True, timeout=600)
    lines = result.stdout.strip().splitlines()
    assert lines, f"no summary on stdout; stderr:\n{result.stderr[-3000:]}"
    return Run(result.returncode, json.loads(lines[-1]), result.stderr)


@dataclass
class FullDump:
    catalogue: Catalogue
    amo: AmoFixtureServer
    root: Path
    run: Run
    faults_fired: dict[str, int]


@pytest.fixture(scope="module")
def full_dump(tmp_path_factory) -> Iterator[FullDump]:
    catalogue = generate_catalogue(ADDONS, seed=3)
    root = tmp_path_factory.mktemp("amodump-large")
    with AmoFixtureServer(catalogue, faults=FaultPlan.random_errors(FAULT_RATE, seed=7)) as amo:
        run = run_script("--date", DAY, "--bucket", str(root), "--amo-url", amo.url, "--full")
        yield FullDump(catalogue, amo, root, run, dict(amo.faults_fired))


def test_full_dump_beyond_the_window_with_five_percent_faults_is_exact(full_dump):
    run, catalogue = full_dump.run, full_dump.catalogue
    assert run.returncode == 0, run.stderr[-3000:]
    counts = run.summary["counts"]
    assert (counts["addons_listed"], counts["addons"], counts["missing"]) == (ADDONS, ADDONS, 0)
    assert counts["listing_parts"] >= 2  # more than one 25,000 window
    assert all(count <= 25_000 for count in run.summary["details"]["listing_parts"].values())
    assert set(full_dump.faults_fired) == {"429", "500", "502", "503", "truncate"}
    assert sum(full_dump.faults_fired.values()) >= 0.04 * ADDONS and counts["retries"] >= 0.04 * ADDONS
    dump = Storage().read_json(join_url(str(full_dump.root), PREFIX, "extended_addons_database.json"))
    assert sorted(dump) == sorted(catalogue.guids)
    wrong = [g for g in catalogue.guids if dump[g]["first_create_date"] != catalogue.first_create_date(g)]
    assert wrong == []


def test_add_on_failing_permanently_fails_the_run_and_keeps_the_latest_dump(full_dump, tmp_path):
    assert full_dump.run.returncode == 0, "the full dump this test builds on failed"
    storage = Storage()
    latest = join_url(str(full_dump.root), PREFIX, "extended_addons_database.json")
    before = storage.read_bytes(latest)
    guid = next(g for g in full_dump.catalogue.guids[20_000:] if "{" in g or "+" in g)
    previous = json.loads(before)
    del previous[guid]  # new since yesterday, so today's run must read its versions
    previous_url = str(tmp_path / "previous.json")
    storage.write_bytes(previous_url, json.dumps(previous).encode())
    failing = FaultRule(path=re.escape(quote(guid, safe="")), kind="status", status=503)
    full_dump.amo.set_faults(FaultPlan([failing, *FaultPlan.random_errors(FAULT_RATE, seed=8).rules], seed=8))
    run = run_script(
        "--date", NEXT_DAY, "--bucket", str(full_dump.root), "--amo-url", full_dump.amo.url,
        "--previous", previous_url, "--refresh-fraction", "0",
    )  # fmt: skip
    assert run.returncode == 1
    assert f"1 add-ons failed after retries (> --max-missing 0): {guid}" in run.summary["error"]
    assert run.summary["counts"]["addons_listed"] == ADDONS
    assert storage.read_bytes(latest) == before
    assert not storage.exists(join_url(str(full_dump.root), PREFIX, f"extended_addons_database{NEXT_DAY}.json"))
