"""`taar-wait-for` against each real backend, run as the scheduler runs it (a process)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from taar_common.sensor import partition_ready
from taar_common.storage import Storage, join_url


def wait_for(url: str, timeout: float) -> subprocess.CompletedProcess:
    exe = shutil.which("taar-wait-for", path=str(__import__("pathlib").Path(sys.executable).parent))
    return subprocess.run(
        [exe, url, "--timeout", str(timeout), "--poke-interval", "0.2"], capture_output=True, text=True, timeout=60
    )


def test_sensor_times_out_then_sees_marker(storage_root):
    partition = join_url(storage_root, "clients_daily/v6/submission_date_s3=20261127")
    missing = wait_for(partition, 0.5)
    assert missing.returncode == 1
    assert "timed out" in missing.stderr and "submission_date_s3=20261127" in missing.stderr
    Storage().write_bytes(join_url(partition, "_SUCCESS"), b"")
    ready = wait_for(partition, 5)
    assert ready.returncode == 0, ready.stderr
    summary = json.loads(ready.stdout)
    assert (summary["job"], summary["status"], summary["details"]["url"]) == ("wait_for", "ok", partition)


def test_folder_with_files_counts_as_ready(storage_root):
    storage = Storage()
    partition = join_url(storage_root, "d/submission_date_s3=20261126")
    sibling = join_url(storage_root, "d/submission_date_s3=202611260")
    storage.write_bytes(join_url(sibling, "part-0.parquet"), b"x")
    assert not partition_ready(storage, partition)
    storage.write_bytes(join_url(partition, "part-0.parquet"), b"x")
    assert partition_ready(storage, partition)


def test_a_bad_url_is_refused_when_parsed_with_its_credentials_masked():
    exe = shutil.which("taar-wait-for", path=str(__import__("pathlib").Path(sys.executable).parent))
    refused = subprocess.run([exe, "ftp://user:hunter2pass@host/x"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "host/x" in refused.stderr and "hunter2pass" not in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr
