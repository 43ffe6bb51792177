"""spark_ensemble end to end: generated clients_daily, hand-made model artifacts, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DAY, model_args, write_models
from taar_common.storage import join_url
from taar_fixtures.handmade import addon, client, write_partition
from taar_spark_ensemble import transform
from taar_spark_ensemble.cli import main
from taar_testing.spark_jobs import files_under, seeded_runs


def run_cli(*args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(main, list(args))
    lines = result.stdout.strip().splitlines()
    return result.exit_code, (json.loads(lines[-1]) if lines else {}), result.stderr


def generated_args(generated: dict, bucket: str) -> list[str]:
    """The options of a run on the generated input and models (spark-submit gives the master itself)."""
    return ["--date", f"{DAY:%Y%m%d}", "--num-days", "3", "--input", generated["input"],
            *model_args(generated["models"]), "--bucket", bucket]  # fmt: skip


def run_generated(generated: dict, bucket: str, *extra: str) -> tuple[int, dict, str]:
    return run_cli(*generated_args(generated, bucket), "--master", "local[2]", *extra)


def test_weights_are_published_checked_and_sum_to_one(generated, storage, tmp_path):
    bucket = str(tmp_path / "out")
    code, summary, stderr = run_generated(generated, bucket)
    assert code == 0, stderr
    weights = storage.read_json(join_url(bucket, "taar/ensemble/ensemble_weight.json"))
    assert set(weights) == {"ensemble_weights"}
    assert set(weights["ensemble_weights"]) == {"collaborative", "similarity", "locale"}
    assert abs(sum(weights["ensemble_weights"].values()) - 1.0) < 1e-9
    assert all(0.0 <= w <= 1.0 for w in weights["ensemble_weights"].values())
    dated = join_url(bucket, f"taar/ensemble/ensemble_weight{DAY:%Y%m%d}.json")
    assert storage.read_bytes(dated) == storage.read_bytes(join_url(bucket, "taar/ensemble/ensemble_weight.json"))
    counts, details = summary["counts"], summary["details"]
    assert counts["train_clients"] > 100 and counts["test_clients"] > 20
    assert counts["training_rows"] > counts["train_clients"]  # negatives were drawn
    assert details["weights"] == weights["ensemble_weights"]
    assert details["weights_rule"] in ("logistic_regression", transform.FALLBACK_RULE)
    rates = details["hit_rate_at_10"]
    assert set(rates) == {"collaborative", "similarity", "locale", "ensemble"}
    assert all(0.0 <= r <= 1.0 for r in rates.values())
    assert "client_id" not in json.dumps(summary) or "null_client_id" in json.dumps(summary)


def test_same_seed_same_bytes(generated, storage, tmp_path):
    def published(seed: int, bucket: str) -> tuple[bytes, dict]:
        code, summary, stderr = run_generated(generated, bucket, "--seed", str(seed), "--sample-fraction", "0.8")
        assert code == 0, stderr
        return storage.read_bytes(join_url(bucket, "taar/ensemble/ensemble_weight.json")), summary

    (weights, summary), (weights_again, summary_again), (_, other_summary) = seeded_runs(published, tmp_path, seed=7)
    assert weights == weights_again
    assert summary["details"]["coefficients"] == summary_again["details"]["coefficients"]
    assert summary["details"]["hit_rate_at_10"] == summary_again["details"]["hit_rate_at_10"]
    assert summary["counts"] != other_summary["counts"]  # another seed samples other clients


@pytest.fixture
def small(tmp_path) -> dict:
    """Ten hand-made clients whose most recent add-on is always the en-US locale list's first entry."""
    whitelist = [f"w{i}@x" for i in range(12)]
    rows = []
    for n in range(10):
        addons = [addon(f"w{(n + k) % 11 + 1}@x", install_day=100 + k) for k in range(3)]
        addons.append(addon("w0@x", install_day=500))  # the held-out one: installed last
        # a disabled entry installed last is never held out, even when a valid entry of the same add-on exists
        addons.append(addon("w11@x", install_day=900, user_disabled=True))
        rows.append(client(f"client-{n}", addons, city="Berlin", os="Linux"))
    rows.append(client("too-few", [addon("w1@x"), addon("w2@x")]))
    input_url = write_partition(tmp_path / "clients_daily", DAY, rows)
    urls = write_models(tmp_path / "models", whitelist)
    top10 = json.loads(Path(urls["top10_dict"]).read_text())
    top10["en-US"] = [["w0@x", 0.5], *[[g, 0.01] for g in whitelist[1:10]]]
    Path(urls["top10_dict"]).write_text(json.dumps(top10))
    return {"input": str(input_url), "models": urls, "bucket": str(tmp_path / "out")}


def test_held_out_add_on_is_the_most_recent_valid_one(small):
    code, summary, stderr = run_cli("--date", f"{DAY:%Y%m%d}", "--num-days", "1", "--input", small["input"],
                                    *model_args(small["models"]), "--bucket", small["bucket"], "--test-fraction", "0.5",
                                    "--master", "local[2]")  # fmt: skip
    assert code == 0, stderr
    counts = summary["counts"]
    assert counts["train_clients"] + counts["test_clients"] == 10  # "too-few" has only two add-ons
    assert counts["held_out_listed"] == 10
    assert summary["details"]["hit_rate_at_10"]["locale"] == 1.0  # w0@x leads the en-US list


def test_missing_model_artifact_fails_naming_it(small, tmp_path):
    missing = str(tmp_path / "nowhere" / "donors.json")
    args = model_args(small["models"])
    args[args.index("--donors-url") + 1] = missing
    code, summary, _ = run_cli("--date", f"{DAY:%Y%m%d}", "--input", small["input"], *args, "--bucket", small["bucket"])
    assert code == 1
    assert missing in summary["error"]
    assert files_under(small["bucket"]) == []


def test_help_explains_every_option():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    options = ["--date", "--num-days", "--input", "--whitelist-url", "--locale-url", "--donors-url",
               "--lr-curves-url", "--item-matrix-url", "--addon-mapping-url", "--min-addons", "--sample-fraction",
               "--test-fraction", "--negatives", "--seed", "--bucket", "--prefix"]  # fmt: skip
    for option in options:
        assert option in result.output
