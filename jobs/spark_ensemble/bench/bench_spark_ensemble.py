"""Benchmark taar-spark-ensemble on generated clients_daily and seeded model artifacts.

    .venv/spark_ensemble/bin/python jobs/spark_ensemble/bench/bench_spark_ensemble.py [--clients 1000000]

Generates (seeded, taar_fixtures) `--days` days of clients_daily per size under the data dir
(reused when present) plus model artifacts in the published formats over a 200-GUID
whitelist, runs the job as a subprocess on local[2] and prints one JSON line per size: wall
time, input rows per second, stage times, held-out hit rates, peak RSS of the Python driver
and of the JVM.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

import click
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.bench import (
    BENCH_DAY,
    BENCH_SEED,
    EDITORIAL_WHITELIST,
    clients_daily_dataset,
    measure_process,
    run_record,
)
from taar_fixtures.models import addon_mapping, random_donors, random_item_matrix
from taar_fixtures.telemetry import LOCALES

TARGET_S = {1_000_000: 180.0}
MODELS = ("top10_dict", "donors", "lr_curves", "item_matrix", "addon_mapping")


def model_files(guids: list[str], seed: int) -> dict[str, str]:
    """Seeded artifacts in the published formats: 1,000 donors, 1,000 curve points, rank-20 items."""
    rng = random.Random(seed)
    top10 = {loc: [[g, (10 - i) / 100] for i, g in enumerate(rng.sample(guids, 10))] for loc in LOCALES}
    donors = random_donors(rng, guids, 1000, addons_per_donor=5)
    curves = [[x * 0.006, [max(0.01, 3.0 - x * 0.006), 1.0]] for x in range(1000)]
    items = random_item_matrix(rng, guids, rank=20)
    payloads = {"top10_dict": top10, "donors": donors, "lr_curves": curves, "item_matrix": items,
                "addon_mapping": addon_mapping(guids), "only_guids_top_200": guids}  # fmt: skip
    return {f"{name}.json": json.dumps(payload) for name, payload in payloads.items()}


@click.command()
@click.option("--clients", "sizes", type=int, multiple=True, default=[1_000_000], show_default=True)
@click.option("--days", type=int, default=1, show_default=True, help="Days of clients_daily in the window.")
@click.option("--data-dir", type=click.Path(path_type=Path), show_default=True,
              default=Path(tempfile.gettempdir()) / "taar-bench-spark-ensemble",
              help="Where generated inputs are kept and reused.")  # fmt: skip
def main(sizes: tuple[int, ...], days: int, data_dir: Path) -> None:
    catalogue = sorted(generate_catalogue(2_000, seed=BENCH_SEED).guids)
    side_files = model_files(catalogue[:200], BENCH_SEED)
    for n_clients in sizes:
        data = clients_daily_dataset(
            data_dir, n_clients, days, BENCH_SEED, end=BENCH_DAY, addon_guids=catalogue, side_files=side_files
        )
        model = {name: str(data.folder / f"{name}.json") for name in MODELS}
        with tempfile.TemporaryDirectory() as out:
            run = measure_process([
                sys.executable, "-m", "taar_spark_ensemble", "--date", f"{BENCH_DAY:%Y%m%d}", "--num-days", str(days),
                "--input", str(data.clients_daily), "--whitelist-url", str(data.folder / EDITORIAL_WHITELIST),
                "--locale-url", model["top10_dict"], "--donors-url", model["donors"],
                "--lr-curves-url", model["lr_curves"], "--item-matrix-url", model["item_matrix"],
                "--addon-mapping-url", model["addon_mapping"], "--bucket", out, "--master", "local[2]",
            ]).checked()  # fmt: skip
        summary = run.summary()
        record = run_record("spark_ensemble", data, n_clients, days, run) | {
            "target_s": TARGET_S.get(n_clients),
            "counts": summary["counts"],
            "hit_rate_at_10": summary["details"]["hit_rate_at_10"],
            "weights": summary["details"]["weights"],
        }
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
