"""`taar-fixtures` as users run it: the server as a subprocess, telemetry in-process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from click.testing import CliRunner
from taar_fixtures.cli import main

SCRIPT = Path(sys.executable).with_name("taar-fixtures")


def test_amo_server_answers_and_exits_on_sigterm():
    process = subprocess.Popen(
        [str(SCRIPT), "amo-server", "--addons", "300", "--seed", "4", "--port", "0", "--latency-ms", "5", "--dirty"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        started = json.loads(process.stdout.readline())
        assert started["addons"] == 300
        assert started["url"].startswith("http://127.0.0.1:") and started["url"].endswith("/api/v5/")
        assert started["v4_url"] == started["url"].replace("/api/v5/", "/api/v4/")
        page = requests.get(started["url"] + "addons/search/", params={"page_size": 50}, timeout=10).json()
        assert page["count"] == 300 and len(page["results"]) == 50
        editorial = requests.get(started["url"] + "discovery/editorial/?recommended=true", timeout=10).json()
        assert None in [item["addon"]["guid"] for item in editorial["results"]]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert "stopping the fixture AMO server" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_telemetry_command_writes_three_datasets(tmp_path):
    result = CliRunner().invoke(
        main,
        ["telemetry", "--out", str(tmp_path), "--clients", "2000", "--days", "3", "--end-date", "20261120",
         "--seed", "9", "--amo-addons", "300"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["dates"] == ["20261118", "20261119", "20261120"]
    assert sorted(p.name for p in (tmp_path / "clients_daily").iterdir()) == [
        "submission_date_s3=20261118",
        "submission_date_s3=20261119",
        "submission_date_s3=20261120",
    ]
    assert summary["rows"]["deletion_request"] == 41
    assert 3_000 < summary["rows"]["clients_daily"] < 5_000
    assert summary["clients_last_seen"] == str(tmp_path / "clients_last_seen")


def test_telemetry_end_date_is_as_strict_as_every_jobs_date(tmp_path):
    result = CliRunner().invoke(main, ["telemetry", "--out", str(tmp_path), "--end-date", "2026111"])
    assert result.exit_code == 2 and "Invalid value for '--end-date'" in result.output
    assert not any(tmp_path.iterdir())
