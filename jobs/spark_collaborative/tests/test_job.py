"""spark_collaborative end to end: generated clients_daily, the CLI, real storage backends, the service's scoring."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import DAY
from taar_common.artifacts import positive_hash
from taar_common.storage import join_url
from taar_fixtures.handmade import addon, client, write_partition
from taar_spark_collaborative.cli import main
from taar_testing.spark_jobs import files_under, seeded_runs

PREFIX = "addon_recommender"
SMALL_MODEL = ("--rank", "6", "--max-iter", "5")


def run_cli(*args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(main, list(args))
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {}
    return result.exit_code, summary, result.stderr


def generated_args(generated: dict, bucket: str) -> list[str]:
    """The options of a run on the generated input (the console script's and spark-submit's alike)."""
    return [
        "--date", f"{DAY:%Y%m%d}", "--num-days", "2", "--input", generated["input"],
        "--whitelist-url", generated["whitelist_url"], "--bucket", bucket, *SMALL_MODEL,
    ]  # fmt: skip


def run_generated(generated: dict, bucket: str, *extra: str) -> tuple[int, dict, str]:
    return run_cli(*generated_args(generated, bucket), *extra)


def service_recommendations(matrix: list, mapping: dict, installed: list[str], limit: int = 10) -> list:
    """The TAAR service's collaborative scoring, re-stated (mozilla-taar3 1.0.7
    recommenders/collaborative_recommender.py `_recommend` and cache.py `compute_collab_model`):
    the user vector is the sum of the installed items' rows, each other item scores its dot
    product with it, and only items whose mapping entry has `isWebextension` true are returned."""
    installed_ids = {positive_hash(g) for g in installed}
    model = np.array([row["features"] for row in matrix])
    query = np.array([1.0 if row["id"] in installed_ids else 0.0 for row in matrix])
    user = query @ model
    scores = {}
    for row in matrix:
        entry = mapping.get(str(row["id"]))
        if row["id"] in installed_ids or entry is None or entry.get("isWebextension", False) is False:
            continue
        scores[entry["id"]] = float(np.dot(user, row["features"]))
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)[:limit]


def test_publishes_the_service_artifacts(generated, storage, storage_root):
    compress = ["--compress", "bz2"] if storage_root.startswith("gs://") else []
    code, summary, stderr = run_generated(generated, storage_root, "--prefix", PREFIX + "/", *compress)
    assert code == 0, stderr
    suffix = ".json.bz2" if compress else ".json"
    payloads = {}
    for name in ("item_matrix", "addon_mapping"):
        latest = join_url(storage_root, PREFIX, name + suffix)
        dated = join_url(storage_root, PREFIX, f"{name}{DAY:%Y%m%d}{suffix}")
        assert storage.read_bytes(dated) == storage.read_bytes(latest)
        assert latest in summary["artifacts"] and dated in summary["artifacts"]
        payloads[name] = storage.read_json(latest)
    matrix, mapping = payloads["item_matrix"], payloads["addon_mapping"]
    whitelist = set(generated["whitelist"])
    assert 20 < len(matrix) <= len(whitelist)
    assert all(len(row["features"]) == 6 for row in matrix)
    assert {str(row["id"]) for row in matrix} == set(mapping)
    assert all(e["id"] in whitelist and str(positive_hash(e["id"])) == k for k, e in mapping.items())
    assert summary["status"] == "ok"
    counts = summary["counts"]
    assert counts["items"] == len(matrix) and counts["users"] > 100 and counts["ratings"] >= counts["users"]
    assert counts["null_client_id_rows"] > 0
    text = json.dumps(summary) + stderr
    assert "client_id" not in text.replace("null_client_id_rows", "")


def test_same_seed_same_bytes(generated, tmp_path, storage):
    def published(seed: int, bucket: str) -> list[bytes]:
        code, _, stderr = run_generated(generated, bucket, "--seed", str(seed))
        assert code == 0, stderr
        return [storage.read_bytes(join_url(bucket, PREFIX, n)) for n in ("item_matrix.json", "addon_mapping.json")]

    first, again, other = seeded_runs(published, tmp_path, seed=7)
    assert first == again
    assert first[0] != other[0]  # the seed matters: other initial factors
    assert first[1] == other[1]


def test_service_scoring_recommends_for_a_client_with_whitelisted_addons(generated, tmp_path, storage):
    bucket = str(tmp_path / "out")
    code, _, stderr = run_generated(generated, bucket)
    assert code == 0, stderr
    matrix = storage.read_json(join_url(bucket, PREFIX, "item_matrix.json"))
    mapping = storage.read_json(join_url(bucket, PREFIX, "addon_mapping.json"))
    installed = [mapping[str(matrix[0]["id"])]["id"], mapping[str(matrix[1]["id"])]["id"], "not-whitelisted@x"]
    recommended = service_recommendations(matrix, mapping, installed)
    assert len(recommended) == 10
    assert not {guid for guid, _ in recommended} & set(installed)
    assert all(guid in generated["whitelist"] for guid, _ in recommended)


@pytest.fixture
def small_input(tmp_path) -> dict:
    """A hand-made day: three clients over three whitelisted add-ons."""
    rows = [
        client("c1", [addon("a@x"), addon("b@x")]),
        client("c2", [addon("b@x"), addon("c@x")]),
        client("c3", [addon("a@x"), addon("c@x")]),
    ]
    root = write_partition(tmp_path / "clients_daily", DAY, rows)
    whitelist_url = tmp_path / "only_guids_top_200.json"
    whitelist_url.write_text(json.dumps(["a@x", "b@x", "c@x"]))
    return {"input": str(root), "whitelist_url": str(whitelist_url), "bucket": str(tmp_path / "out")}


def run_small(small_input: dict, *, date: str = "20261127", **overrides: str) -> tuple[int, dict, str]:
    urls = {**small_input, **overrides}
    return run_cli(
        "--date", date, "--input", urls["input"], "--whitelist-url", urls["whitelist_url"], "--bucket", urls["bucket"],
        *SMALL_MODEL,
    )  # fmt: skip


def test_whitelist_collision_fails_naming_both_guids_and_publishes_nothing(small_input):
    Path(small_input["whitelist_url"]).write_text(json.dumps(["a@x", "Aa@x", "BB@x"]))
    code, summary, _ = run_small(small_input)
    assert code == 1
    assert "'Aa@x' and 'BB@x' share item id" in summary["error"]
    assert files_under(small_input["bucket"]) == []


def test_missing_date_partition_fails_naming_it(small_input):
    code, summary, _ = run_small(small_input, date="20261128")
    assert code == 1
    assert "submission_date_s3=20261128" in summary["error"]
    assert files_under(small_input["bucket"]) == []


def test_no_whitelisted_addon_fails_and_publishes_nothing(small_input):
    Path(small_input["whitelist_url"]).write_text(json.dumps(["z@x"]))
    code, summary, _ = run_small(small_input)
    assert code == 1
    assert "no release Firefox client" in summary["error"]
    assert files_under(small_input["bucket"]) == []


def test_help_explains_every_option():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for option in ("--date", "--input", "--whitelist-url", "--num-days", "--rank", "--reg-param", "--alpha",
                   "--max-iter", "--seed", "--bucket", "--prefix", "--compress", "--master", "--gcs-bucket",
                   "--s3-bucket"):  # fmt: skip
        assert option in result.output
