"""An unreachable Bigtable fails up front within --bigtable-timeout, naming the host."""

from __future__ import annotations

import socket
import time

import google.cloud.bigtable  # noqa: F401  (imported here: its import time is not the job's timeout)
import pytest
from conftest import DAY, generated_rows, write_clients_last_seen
from taar_profile_bigtable.sinks import BigtableSink

DATE = DAY.strftime("%Y%m%d")


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (bound once to pick it, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("stage", ["--gcs-to-bigtable", "--delete-opt-out"])
def test_unreachable_bigtable_fails_within_the_timeout_naming_the_host(
    run_cli, tmp_path, monkeypatch, closed_port, stage
):
    write_clients_last_seen(tmp_path / "taar-data" / "telemetry", generated_rows(5))
    for flag in ("--fill-bq", "--bq-to-gcs"):
        run_cli(flag, "--iso-date", DATE, "--sample-rate", "1")
    # No deletion_request data for --delete-opt-out: the sink is checked before the warehouse is read.
    host = f"127.0.0.1:{closed_port}"
    monkeypatch.setenv("BIGTABLE_EMULATOR_HOST", host)

    started = time.monotonic()
    result, summary = run_cli(stage, "--iso-date", DATE, "--bigtable-timeout", "2", expect_exit=1)
    elapsed = time.monotonic() - started

    # the timeout plus the stage's local work on a loaded 2-core machine; it was ~263 s before
    assert elapsed < 15, f"took {elapsed:.1f} s with --bigtable-timeout 2"
    assert summary["status"] == "failed"
    assert f"Bigtable at {host} not reachable within 2 s" in summary["error"]
    assert "\n" not in summary["error"] and "Traceback" not in summary["error"]
    error_lines = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert error_lines and host in error_lines[0]


def test_table_check_honours_the_timeout(monkeypatch, closed_port):
    monkeypatch.setenv("BIGTABLE_EMULATOR_HOST", f"127.0.0.1:{closed_port}")
    sink = BigtableSink("taar-local", "taar-local", "taar_profile", timeout_s=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(RuntimeError, match="not reachable within 1 s"):
            sink.ensure_table()
    finally:
        sink.close()
    assert time.monotonic() - started < 6


def test_reachable_emulator_passes_the_check_and_creates_the_table(bigtable_emulator, monkeypatch):
    monkeypatch.setenv("BIGTABLE_EMULATOR_HOST", bigtable_emulator.host)
    sink = BigtableSink(bigtable_emulator.project, bigtable_emulator.instance, "reachability", timeout_s=5.0)
    try:
        sink.check_reachable()
        assert sink.ensure_table() is True
        assert sink.ensure_table() is False
        gc = sink._client.table_admin_client.get_table(request={"name": sink._table.name}).column_families
        assert "profile" in gc and gc["profile"].gc_rule.union.rules
    finally:
        sink.close()
