"""DuckDB engine end to end into cbtemulator, spoken to by the official client."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

from conftest import DAY, client_row, generated_rows, write_clients_last_seen, write_deletion_requests
from taar_common.hashing import hash_client_id
from taar_profile_bigtable.transform import decode_payload
from taar_testing.plugin import service_unavailable
from taar_testing.services import BigtableEmulator, ServiceNotInstalled

DATE = DAY.strftime("%Y%m%d")


def bigtable_table(project, instance, table_id):
    from google.cloud import bigtable

    return bigtable.Client(project=project, admin=True).instance(instance).table(table_id)


def row_keys(table):
    from google.cloud.bigtable import row_filters

    strip = row_filters.StripValueTransformerFilter(True)
    return {row.row_key for row in table.read_rows(filter_=strip)}


def target(emulator, table_id):
    return (
        "--gcp-project", emulator.project,
        "--bigtable-instance-id", emulator.instance,
        "--bigtable-table-id", table_id,
    )  # fmt: skip


def prepare_avro(run_cli, tmp_path, rows):
    write_clients_last_seen(tmp_path / "taar-data" / "telemetry", rows)
    for flag in ("--fill-bq", "--bq-to-gcs"):
        run_cli(flag, "--iso-date", DATE, "--sample-rate", "1")


def test_load_into_bigtable_creates_table_and_is_idempotent(run_cli, tmp_path, bigtable_emulator):
    rows = generated_rows(120, seed=21)
    prepare_avro(run_cli, tmp_path, rows)
    load = ("--gcs-to-bigtable", "--iso-date", DATE, *target(bigtable_emulator, "profiles_e2e"))

    _, first = run_cli(*load, "--workers", "4", "--batch-size", "7")
    assert first["counts"]["rows_written"] == 120 and first["counts"]["table_created"] == 1
    assert first["details"]["sink"] == f"bigtable:{bigtable_emulator.project}/{bigtable_emulator.instance}/profiles_e2e"
    _, second = run_cli(*load, "--workers", "2")
    assert second["counts"]["rows_written"] == 120 and second["counts"]["table_created"] == 0

    table = bigtable_table(bigtable_emulator.project, bigtable_emulator.instance, "profiles_e2e")
    rule = table.list_column_families()["profile"].gc_rule
    assert [type(r).__name__ for r in rule.rules] == ["MaxAgeGCRule", "MaxVersionsGCRule"]
    assert rule.rules[0].max_age == dt.timedelta(days=90) and rule.rules[1].max_num_versions == 1
    assert row_keys(table) == {hash_client_id(r["client_id"]).encode() for r in rows}

    # Re-running wrote the same cell again: one version, stamped with the run date.
    sample = rows[7]
    cells = table.read_row(hash_client_id(sample["client_id"]).encode()).cells["profile"][b"payload"]
    assert len(cells) == 1
    assert cells[0].timestamp == dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    payload = decode_payload(cells[0].value)
    assert payload["client_id"] == hash_client_id(sample["client_id"])
    assert payload["subsession_length"] == round(sample["subsession_hours_sum"] * 3600)
    assert (
        payload["scalar_parent_browser_engagement_tab_open_event_count"]
        == (sample["scalar_parent_browser_engagement_tab_open_event_count_sum"])
    )
    assert [a["addon_id"] for a in payload["active_addons"]] == [a["addon_id"] for a in sample["active_addons"]]
    assert [a["is_system"] for a in payload["active_addons"]] == [a["is_system"] for a in sample["active_addons"]]

    result, _ = run_cli("get", "--client-id", sample["client_id"], *target(bigtable_emulator, "profiles_e2e"))
    assert json.loads(result.stdout) == payload


def test_shards_together_load_every_row_once(run_cli, tmp_path, bigtable_emulator):
    rows = generated_rows(30, seed=4)
    prepare_avro(run_cli, tmp_path, rows)
    counts = []
    for shard in ("0/2", "1/2"):
        _, summary = run_cli(
            "--gcs-to-bigtable", "--iso-date", DATE, "--shard", shard, *target(bigtable_emulator, "profiles_shards")
        )
        counts.append(summary["counts"]["rows_written"])
    assert counts == [30, 0]  # one Avro file: shard 0 takes it, shard 1 has none
    table = bigtable_table(bigtable_emulator.project, bigtable_emulator.instance, "profiles_shards")
    assert len(row_keys(table)) == 30


def test_delete_opt_out_deletes_hashed_keys_in_bigtable(run_cli, tmp_path, bigtable_emulator):
    rows = [client_row(f"client-{i}") for i in range(5)]
    telemetry = tmp_path / "taar-data" / "telemetry"
    write_deletion_requests(
        telemetry,
        [
            ("client-1", dt.datetime(2026, 11, 20, tzinfo=dt.UTC)),
            ("client-4", dt.datetime(2026, 11, 27, tzinfo=dt.UTC)),
        ],
    )
    prepare_avro(run_cli, tmp_path, rows)
    where = target(bigtable_emulator, "profiles_delete")
    run_cli("--gcs-to-bigtable", "--iso-date", DATE, *where)
    _, deleted = run_cli("--delete-opt-out", "--delete-days", "7", "--iso-date", DATE, *where)
    assert deleted["counts"] == {"deletion_requests": 2, "rows_deleted": 2}
    _, again = run_cli("--delete-opt-out", "--delete-days", "7", "--iso-date", DATE, *where)
    assert again["counts"] == {"deletion_requests": 2, "rows_deleted": 0}
    table = bigtable_table(bigtable_emulator.project, bigtable_emulator.instance, "profiles_delete")
    assert row_keys(table) == {hash_client_id(f"client-{i}").encode() for i in (0, 2, 3)}


def test_emulator_going_away_mid_load_fails_and_a_rerun_completes_exactly(run_cli, tmp_path, monkeypatch):
    rows = generated_rows(600, seed=9)
    prepare_avro(run_cli, tmp_path, rows)
    log_dir = tmp_path / "cbt"
    first = BigtableEmulator(log_dir=log_dir)
    try:
        first.start()
    except ServiceNotInstalled as error:  # only a missing program skips (fails in CI); a start error fails
        service_unavailable(f"cbtemulator unavailable: {error}")
    port = first.port
    monkeypatch.setenv("BIGTABLE_EMULATOR_HOST", first.host)
    env = dict(os.environ)
    argv = [
        sys.executable, "-m", "taar_profile_bigtable", "--gcs-to-bigtable", "--iso-date", DATE,
        *target(first, "profiles_outage"), "--workers", "1", "--batch-size", "5", "--bigtable-timeout", "0.5",
    ]  # fmt: skip
    loader = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        table = bigtable_table(first.project, first.instance, "profiles_outage")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and loader.poll() is None:
            if table.exists() and list(table.read_rows(limit=1)):
                break
            time.sleep(0.02)
        assert loader.poll() is None, f"load ended before it could be interrupted: {loader.communicate()}"
        os.kill(loader.pid, signal.SIGSTOP)  # freeze the load mid-way, then take the emulator away
        loaded_before = len(row_keys(table))
        assert 0 < loaded_before < 600, f"could not catch the load mid-way ({loaded_before} rows)"
        first.stop()
        os.kill(loader.pid, signal.SIGCONT)
        stdout, stderr = loader.communicate(timeout=180)
    finally:
        if loader.poll() is None:
            loader.kill()
        first.stop()
    assert loader.returncode == 1, stderr.decode()[-2000:]
    summary = json.loads(stdout.decode().strip().splitlines()[-1])
    assert summary["status"] == "failed" and "profiles_outage" in summary["error"]
    assert stderr.decode().count("attempt 5/5") == 1, "the first failed batch must stop the other writers"

    with BigtableEmulator(port=port, log_dir=log_dir) as second:
        _, rerun = run_cli(*argv[3:], "--batch-size", "500")
        assert rerun["counts"]["rows_written"] == 600
        table = bigtable_table(second.project, second.instance, "profiles_outage")
        assert row_keys(table) == {hash_client_id(r["client_id"]).encode() for r in rows}
