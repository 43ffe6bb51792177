"""Benchmark helpers: a real child's peak RSS and wall time, and reuse of generated inputs."""

from __future__ import annotations

import datetime as dt
import json
import sys

import pytest
from taar_fixtures import bench
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


def test_peak_rss_kib_selects_processes_by_name():
    run = bench.Measurement(
        command=["x"], returncode=0, wall_s=1.0, stdout="", stderr="",
        peak_rss_kib_by_name={"java": 300, "python3": 100, "bash": 20},
        cpu_s=0.0, load_avg_1m=(0.0, 0.0), rusage=None, largest_child_rss_kib=0,
    )  # fmt: skip

    assert run.peak_rss_kib(named="java") == 300
    assert run.peak_rss_kib(other_than="java") == 100
    assert run.peak_rss_kib() == 300
    assert run.peak_rss_kib(named="absent") == 0


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
