"""Benchmark helpers: a real child's peak RSS and wall time, and reuse of generated inputs."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from taar_fixtures import bench
from taar_fixtures.amo import PIONEER_GUID
from taar_fixtures.bench import clients_daily_dataset, measure_process

ALLOCATE_50_MIB = "import time; block = b'x' * (50 << 20); time.sleep(1.0); print('{\"ok\": true}')"


def test_measure_process_sees_peak_rss_and_wall_time_of_a_real_child():
    run = measure_process([sys.executable, "-c", ALLOCATE_50_MIB], interval_s=0.05)

    assert run.returncode == 0
    assert run.summary() == {"ok": True}
    assert 1.0 <= run.wall_s < 30.0
    peak_mib = run.peak_rss_kib() / 1024
    assert 50 <= peak_mib < 50 + 150, run.peak_rss_kib_by_name
    assert run.rusage.ru_maxrss / 1024 >= 50
    assert run.cpu_s >= 0.0


def test_checked_exits_with_the_stderr_tail_when_the_command_fails():
    run = measure_process([sys.executable, "-c", "import sys; sys.exit('bad input file')"], interval_s=0.05)

    assert run.returncode == 1
    with pytest.raises(SystemExit, match="(?s)exit 1.*bad input file"):
        run.checked()


def sampled(peak_rss_kib_by_name: dict[str, int]) -> bench.Measurement:
    """A finished run that sampled these peaks (everything else neutral)."""
    return bench.Measurement(
        command=["x"], returncode=0, wall_s=1.0, stdout="", stderr="", peak_rss_kib_by_name=peak_rss_kib_by_name,
        cpu_s=0.0, load_avg_1m=(0.0, 0.0), rusage=None, largest_child_rss_kib=0,
    )  # fmt: skip


def test_peak_rss_kib_selects_processes_by_name():
    run = sampled({"java": 300, "python3": 100, "bash": 20})

    assert run.peak_rss_kib(named="java") == 300
    assert run.peak_rss_kib(other_than="java") == 100
    assert run.peak_rss_kib() == 300
    assert run.peak_rss_kib(named="absent") == 0


def test_peak_rss_kib_tells_the_driver_jvm_from_the_executors():
    run = sampled({"java:SparkSubmit": 300, "java:CoarseGrainedExecutorBackend": 500, "python3": 100})

    assert run.peak_rss_kib(named="java") == 500  # every JVM
    assert run.peak_rss_kib(named="java:SparkSubmit") == 300  # the driver alone
    assert run.peak_rss_kib(other_than="java") == 100


def test_process_name_is_the_command_name_outside_a_jvm():
    assert bench.process_name(os.getpid()) == Path("/proc/self/comm").read_text().strip()
    assert bench.process_name(2**22 + 1) == ""  # above pid_max: no such process


def test_clients_daily_dataset_reuses_a_complete_dataset(tmp_path, monkeypatch):
    guids = [f"addon-{i}@example.org" for i in range(20)]
    first = clients_daily_dataset(
        tmp_path, 50, 2, 7, end=dt.date(2026, 11, 27), addon_guids=guids, side_files={"w.json": json.dumps(guids)}
    )
    assert first.rows > 0
    assert (first.folder / ".complete").exists()
    assert json.loads((first.folder / "w.json").read_text()) == guids
    assert sorted(p.name for p in first.clients_daily.iterdir()) == [
        "submission_date_s3=20261126",
        "submission_date_s3=20261127",
    ]

    def must_not_regenerate(*args, **kwargs):
        raise AssertionError("a complete dataset was generated again")

    monkeypatch.setattr(bench, "write_clients_daily", must_not_regenerate)
    again = clients_daily_dataset(tmp_path, 50, 2, 7, end=dt.date(2026, 11, 27), addon_guids=guids)

    assert again == first


def test_clients_daily_dataset_regenerates_without_the_complete_marker(tmp_path, monkeypatch):
    guids = [f"addon-{i}@example.org" for i in range(20)]
    first = clients_daily_dataset(tmp_path, 50, 1, 7, end=dt.date(2026, 11, 27), addon_guids=guids)
    (first.folder / ".complete").unlink()
    calls = []
    monkeypatch.setattr(bench, "write_clients_daily", lambda *args, **kwargs: calls.append(kwargs))

    clients_daily_dataset(tmp_path, 50, 1, 7, end=dt.date(2026, 11, 27), addon_guids=guids)

    assert [call["dates"] for call in calls] == [[dt.date(2026, 11, 27)]]
    assert (first.folder / ".complete").exists()


def test_wall_time_is_not_rounded_up_to_the_sampling_interval():
    run = measure_process([sys.executable, "-c", "pass"], interval_s=5.0)

    assert run.returncode == 0
    assert run.wall_s < 4.0


def test_skewed_day_puts_the_common_addon_on_every_client_and_500_more_on_the_first(tmp_path):
    skewed = bench.write_skewed_day(tmp_path, dt.date(2026, 11, 27), n_clients=400, catalogue_size=700, seed=3)

    assert PIONEER_GUID not in skewed.guids and skewed.guids == sorted(skewed.guids)
    assert skewed.partition == skewed.clients_daily / "submission_date_s3=20261127"
    rows = pq.read_table(skewed.partition).to_pylist()
    first_ids = [[a["addon_id"] for a in row["active_addons"] or []] for row in rows]
    assert all(ids and ids[0] == skewed.common_guid for ids in first_ids)
    assert first_ids[0][1 : bench.HEAVY_CLIENT_ADDONS + 1] == skewed.heavy_guids
    assert len(skewed.heavy_guids) == bench.HEAVY_CLIENT_ADDONS
    in_locale = sum(row["locale"] == bench.SKEW_LOCALE for row in rows) / len(rows)
    assert 0.8 < in_locale < 1.0


def test_bench_record_sets_the_run_beside_its_floor():
    def measured(wall_s: float, cpu_s: float) -> bench.Measurement:
        return bench.Measurement(
            command=["x"], returncode=0, wall_s=wall_s, stdout='{"durations_s": {"total": 1.0}}', stderr="",
            peak_rss_kib_by_name={"java": 2048, "python3": 1024}, cpu_s=cpu_s, load_avg_1m=(1.0, 2.0), rusage=None,
            largest_child_rss_kib=0,
        )  # fmt: skip

    data = bench.Dataset(Path("d"), Path("d/clients_daily"), 1000)
    record = bench.bench_record("spark_x", "day", data, 100, 1, measured(4.0, 6.0), measured(2.0, 2.0))

    assert record["job"] == "spark_x" and record["case"] == "day" and record["days"] == 1
    assert record["input_rows"] == 1000 and record["rows_per_s"] == 250 and record["rows_per_s_per_core"] == 125
    assert record["ratio_to_floor"] == 2.0 and record["cpu_ratio_to_floor"] == 3.0
    assert record["jvm_peak_rss_mib"] == 2 and record["driver_python_peak_rss_mib"] == 1
    assert record["stages_s"] == {"total": 1.0} and record["master"] == "local[2]"
