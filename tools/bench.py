"""`make bench`: run every job's benchmark script in that job's own virtualenv.

Each `jobs/<job>/bench/bench_*.py` prints one JSON line per measurement; they are collected
into `bench-results/<job>.jsonl` and summarised. `BENCH=amodump make bench` runs one job's.

The Spark jobs' records (each case next to its scan floor) are then summarised into
`bench-results/spark_scaling.json`: per job, the one-day cases, the fitted growth exponent
of wall time against input rows (log-log least squares; 1.0 is linear), the driver JVM's
peak RSS growth (from each day case's second run under `local-cluster`, where the driver
has a JVM of its own) and the checks against the targets; `bench-results/spark_scaling.png`
plots time and ratio to the floor against rows, one line per job (drawn with matplotlib
from taar_report's venv, the one package that declares it). Sizes: BENCH_CLIENTS
("100000 1000000"; add 3000000 for the full curve), BENCH_WINDOW_CLIENTS (100000 a day;
0 skips the 28/90-day windows), BENCH_SKEW_CLIENTS (1000000; 0 skips the skewed day).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPARK_JOBS = ("spark_lite", "spark_locale", "spark_similarity")
RATIO_TARGET = {"spark_lite": 2.0, "spark_locale": 2.0, "spark_similarity": 3.0}
EXPONENT_TARGET = 1.1
RSS_FLAT_WITHIN = 0.20


def growth_exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(seconds) against log(rows); None below two distinct sizes."""
    pairs = [(math.log(rows), math.log(seconds)) for rows, seconds in points if rows > 0 and seconds > 0]
    if len({x for x, _ in pairs}) < 2:
        return None
    mean_x = sum(x for x, _ in pairs) / len(pairs)
    mean_y = sum(y for _, y in pairs) / len(pairs)
    return sum((x - mean_x) * (y - mean_y) for x, y in pairs) / sum((x - mean_x) ** 2 for x, _ in pairs)


def spark_scaling(records: dict[str, list[dict]]) -> dict[str, dict]:
    """Per Spark job: its one-day growth curve, exponent, ratio at 1M and the target checks."""
    summary = {}
    for job, rows in records.items():
        days = sorted((r for r in rows if r.get("case") == "day"), key=lambda r: r["input_rows"])
        if not days:
            continue
        exponent = growth_exponent([(r["input_rows"], r["wall_s"]) for r in days])
        floor_exponent = growth_exponent([(r["input_rows"], r["floor_s"]) for r in days])
        at_1m = next((r for r in days if r["clients"] == 1_000_000), None)
        # The driver's own JVM is seen only under local-cluster; in local[2] one JVM holds the
        # executors' data too, so its RSS is reported but is not the driver's.
        driver_key = (
            "cluster_driver_jvm_peak_rss_mib"
            if all(r.get("cluster_driver_jvm_peak_rss_mib") for r in days)
            else "jvm_peak_rss_mib"
        )
        rss = [r[driver_key] for r in days]
        rss_growth = max(rss) / min(rss) - 1 if min(rss) else None
        local_rss = [r["jvm_peak_rss_mib"] for r in days]
        summary[job] = {
            "day_cases": [
                {
                    k: r[k]
                    for k in (
                        "clients",
                        "input_rows",
                        "wall_s",
                        "floor_s",
                        "ratio_to_floor",
                        "rows_per_s",
                        "rows_per_s_per_core",
                        "jvm_peak_rss_mib",
                        "driver_python_peak_rss_mib",
                        "cluster_wall_s",
                        "cluster_driver_jvm_peak_rss_mib",
                        "cluster_executor_jvm_peak_rss_mib",
                    )
                    if k in r
                }
                for r in days
            ],  # fmt: skip
            "other_cases": [r for r in rows if r.get("case") != "day"],
            "growth_exponent": None if exponent is None else round(exponent, 3),
            "floor_growth_exponent": None if floor_exponent is None else round(floor_exponent, 3),
            "exponent_range_clients": [days[0]["clients"], days[-1]["clients"]],
            "ratio_to_floor_at_1m": at_1m and at_1m["ratio_to_floor"],
            "driver_rss_growth": None if rss_growth is None else round(rss_growth, 3),
            "driver_rss_measure": driver_key,
            "local_jvm_rss_growth": round(max(local_rss) / min(local_rss) - 1, 3) if min(local_rss) else None,
            "targets_met": {
                f"ratio_at_1m<={RATIO_TARGET[job]}": at_1m and at_1m["ratio_to_floor"] <= RATIO_TARGET[job],
                f"exponent<={EXPONENT_TARGET}": exponent is not None and exponent <= EXPONENT_TARGET,
                f"driver_rss_flat_within_{RSS_FLAT_WITHIN:.0%}": rss_growth is not None
                and rss_growth <= RSS_FLAT_WITHIN,
            },
        }
    return summary


def readme_table(entry: dict) -> str:
    """A job's cases as the Markdown table of its README's Scaling section."""
    lines = [
        "| case | clients a day | days | input rows | wall | scan floor | ratio | rows/s | driver JVM peak RSS"
        " (local-cluster) | JVM peak RSS (local[2]) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in [{"case": "day", **c} for c in entry["day_cases"]] + entry["other_cases"]:
        driver = case.get("cluster_driver_jvm_peak_rss_mib")
        lines.append(
            f"| {case['case']} | {case['clients']:,} | {case.get('days', 1)} | {case['input_rows']:,} "
            f"| {case['wall_s']} s | {case['floor_s']} s | {case['ratio_to_floor']} | {case['rows_per_s']:,} "
            f"| {f'{driver} MiB' if driver else '-'} | {case['jvm_peak_rss_mib']} MiB |"
        )
    return "\n".join(lines)


def plot(summary_path: Path, out: Path) -> None:
    """Time and ratio to the floor against input rows, one line per job (needs matplotlib)."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = json.loads(summary_path.read_text())
    fig, (time_ax, ratio_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for job, entry in summary.items():
        rows = [c["input_rows"] for c in entry["day_cases"]]
        label = f"{job} (exponent {entry['growth_exponent']})"
        time_ax.plot(rows, [c["wall_s"] for c in entry["day_cases"]], marker="o", label=label)
        ratio_ax.plot(rows, [c["ratio_to_floor"] for c in entry["day_cases"]], marker="o", label=job)
    for ax, title in ((time_ax, "wall time (s), local[2]"), (ratio_ax, "job time / scan floor time")):
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # minor labels overlap
        ax.set_xlabel("input rows (one day of clients_daily)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    time_ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> int:
    only = set(os.environ.get("BENCH", "").split())
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    failures = 0
    for script in sorted(ROOT.glob("jobs/*/bench/bench_*.py")):
        job = script.parent.parent.name
        if only and job not in only:
            continue
        python = ROOT / ".venv" / job / "bin" / "python"
        print(f"=== {job}: {script.relative_to(ROOT)}", flush=True)
        start = time.monotonic()
        result = subprocess.run([str(python), str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        (out_dir / f"{job}.jsonl").write_text("".join(line + "\n" for line in lines))
        for line in lines:
            print("  " + json.dumps(json.loads(line), sort_keys=True))
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"    {status} in {time.monotonic() - start:.0f}s", flush=True)
        failures += result.returncode != 0
    failures += summarise_spark(out_dir)
    return 1 if failures else 0


def summarise_spark(out_dir: Path) -> int:
    """Write spark_scaling.json and its plot from the Spark jobs' .jsonl files; 1 if the plot fails."""
    records = {}
    for job in SPARK_JOBS:
        path = out_dir / f"{job}.jsonl"
        if path.exists():
            records[job] = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    summary = spark_scaling(records)
    if not summary:
        return 0
    summary_path = out_dir / "spark_scaling.json"
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    for job, entry in summary.items():
        print(f"{job}: exponent {entry['growth_exponent']}, ratio at 1M {entry['ratio_to_floor_at_1m']}, "
              f"driver RSS growth {entry['driver_rss_growth']}, targets {entry['targets_met']}")  # fmt: skip
    python = ROOT / ".venv" / "taar_report" / "bin" / "python"
    drawn = subprocess.run([str(python), __file__, "--plot", str(summary_path), str(out_dir / "spark_scaling.png")])
    return int(drawn.returncode != 0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--plot"]:
        plot(Path(sys.argv[2]), Path(sys.argv[3]))
        sys.exit(0)
    if sys.argv[1:2] == ["--table"]:  # the README table of a job: tools/bench.py --table spark_lite
        print(readme_table(json.loads((ROOT / "bench-results" / "spark_scaling.json").read_text())[sys.argv[2]]))
        sys.exit(0)
    sys.exit(main())
