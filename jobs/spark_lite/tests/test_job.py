"""spark_lite end to end: generated clients_daily, the CLI, real storage backends, DuckDB as the referee."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from taar_common.storage import join_url
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.handmade import addon, client
from taar_fixtures.telemetry import write_clients_daily
from taar_spark_lite.cli import main
from taar_testing.handmade_inputs import HandmadeInputs, InputFailures, write_handmade_inputs
from taar_testing.spark_jobs import seeded_runs

DAY = dt.date(2026, 11, 27)
N_CLIENTS = 3000


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    """3,000 generated clients on DAY (dirty rows included) and a whitelist of 2 in 3 catalogue GUIDs."""
    root = tmp_path_factory.mktemp("lite-input")
    guids = list(generate_catalogue(300, 0).guids)
    input_url = str(write_clients_daily(root, n_clients=N_CLIENTS, dates=[DAY], seed=3, addon_guids=guids))
    whitelist = [g for i, g in enumerate(guids) if i % 3 != 0]
    whitelist_url = str(root / "whitelist_addons_database.json")
    Path(whitelist_url).write_text(json.dumps({g: {"guid": g} for g in whitelist}))
    return {"input": input_url, "whitelist": whitelist, "whitelist_url": whitelist_url}


def duckdb_reference(input_url: str, whitelist: list[str]) -> tuple[dict, dict, int]:
    """The contract computed independently: (co-installation, install ranking, null client id rows)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE whitelist AS SELECT unnest(?::VARCHAR[]) AS guid", [whitelist])
    con.execute(
        f"CREATE VIEW day AS SELECT * FROM read_parquet('{input_url}/submission_date_s3={DAY:%Y%m%d}/*.parquet')"
    )
    con.execute("""
        CREATE TABLE installed AS
        SELECT client_id, unnest(active_addons) AS a FROM day
        WHERE client_id IS NOT NULL AND channel = 'release' AND app_name = 'Firefox'
    """)
    con.execute("""
        CREATE TABLE valid AS
        SELECT DISTINCT client_id, a.addon_id AS guid FROM installed
        WHERE a.type = 'extension' AND a.addon_id IS NOT NULL AND a.addon_id <> 'pioneer-opt-in@mozilla.org'
          AND NOT coalesce(a.is_system, false) AND NOT coalesce(a.user_disabled, false)
          AND NOT coalesce(a.app_disabled, false) AND NOT coalesce(a.foreign_install, false)
          AND NOT coalesce(a.blocklisted, false)
          AND a.addon_id IN (SELECT guid FROM whitelist)
    """)
    pairs = con.execute("""
        WITH eligible AS (SELECT client_id FROM valid GROUP BY client_id HAVING count(*) >= 2)
        SELECT x.guid, y.guid, count(*) FROM valid x JOIN valid y ON x.client_id = y.client_id
        WHERE x.guid <> y.guid AND x.client_id IN (SELECT client_id FROM eligible)
        GROUP BY x.guid, y.guid
    """).fetchall()
    coinstallation: dict[str, dict[str, int]] = {}
    for guid, other, n in pairs:
        coinstallation.setdefault(guid, {})[other] = n
    ranking = dict(
        con.execute("""
        SELECT a.addon_id, count(DISTINCT client_id) FROM installed WHERE a.addon_id IS NOT NULL GROUP BY 1
    """).fetchall()
    )
    null_ids = con.execute("SELECT count(*) FROM day WHERE client_id IS NULL").fetchone()[0]
    return coinstallation, ranking, null_ids


def run_cli(*args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(main, list(args))
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {}
    return result.exit_code, summary, result.stderr


def test_outputs_match_independent_duckdb_computation(generated, storage, storage_root):
    compress = ["--compress", "bz2"] if storage_root.startswith("gs://") else []
    code, summary, stderr = run_cli(
        "--date", f"{DAY:%Y-%m-%d}", "--input", generated["input"], "--whitelist-url", generated["whitelist_url"],
        "--bucket", storage_root, "--prefix", "taar/lite/", *compress,
    )  # fmt: skip
    assert code == 0, stderr
    coinstallation, ranking, null_ids = duckdb_reference(generated["input"], generated["whitelist"])
    suffix = ".json.bz2" if compress else ".json"
    for name, expected in (("guid_coinstallation", coinstallation), ("guid_install_ranking", ranking)):
        latest = join_url(storage_root, "taar/lite", name + suffix)
        dated = join_url(storage_root, "taar/lite", f"{name}{DAY:%Y%m%d}{suffix}")
        assert storage.read_json(latest) == expected, name
        assert storage.read_bytes(dated) == storage.read_bytes(latest)
        assert latest in summary["artifacts"] and dated in summary["artifacts"]
    assert len(coinstallation) > 20 and len(ranking) > len(coinstallation)  # the data is not trivially small
    assert summary["status"] == "ok"
    assert summary["counts"]["null_client_id_rows"] == null_ids > 0
    assert summary["counts"]["coinstallation_guids"] == len(coinstallation)


def test_same_seed_same_bytes_when_sampling(generated, tmp_path, storage):
    def published(seed: int, bucket: str) -> list[bytes]:
        code, _, stderr = run_cli(
            "--date", f"{DAY:%Y%m%d}", "--input", generated["input"], "--whitelist-url", generated["whitelist_url"],
            "--bucket", bucket, "--sample-fraction", "0.5", "--seed", str(seed),
        )  # fmt: skip
        assert code == 0, stderr
        names = ("guid_coinstallation.json", "guid_install_ranking.json")
        return [storage.read_bytes(join_url(bucket, "taar/lite", n)) for n in names]

    first, again, other = seeded_runs(published, tmp_path, seed=11)
    assert first == again
    assert first != other
    _, full_ranking, _ = duckdb_reference(generated["input"], generated["whitelist"])
    sampled = json.loads(first[1])
    assert 0.35 < sum(sampled.values()) / sum(full_ranking.values()) < 0.65


@pytest.fixture
def small_input(tmp_path) -> HandmadeInputs:
    """A hand-made day with two clients sharing two whitelisted add-ons."""
    rows = [client("c1", [addon("a@x"), addon("b@x")]), client("c2", [addon("a@x"), addon("b@x")])]
    return write_handmade_inputs(tmp_path, DAY, rows, {"a@x": {"guid": "a@x"}, "b@x": {"guid": "b@x"}})


def run_small(small_input: HandmadeInputs, *, date: str = "20261127", **overrides: str) -> tuple[int, dict, str]:
    return run_cli(*small_input.options(date, **overrides))


class TestInputFailures(InputFailures):
    run = staticmethod(run_small)
    missing_date = "20261126"
    empty_whitelist = "{}"


def test_missing_column_fails_naming_it(small_input, tmp_path):
    folder = tmp_path / "bad" / f"submission_date_s3={DAY:%Y%m%d}"
    folder.mkdir(parents=True)
    columns = {"client_id": ["c1"], "channel": ["release"], "app_name": ["Firefox"]}
    pq.write_table(pa.table(columns), folder / "p.parquet")
    code, summary, _ = run_small(small_input, input=str(tmp_path / "bad"))
    assert code == 1
    assert "active_addons" in summary["error"] and "lacks column" in summary["error"]


def test_the_two_clients_sharing_a_pair_are_counted(small_input, storage):
    code, summary, stderr = run_small(small_input)
    assert code == 0, stderr
    assert storage.read_json(join_url(small_input.bucket, "taar/lite/guid_coinstallation.json")) == {
        "a@x": {"b@x": 2},
        "b@x": {"a@x": 2},
    }


def test_help_explains_every_option():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for option in ("--date", "--input", "--whitelist-url", "--sample-fraction", "--seed", "--bucket", "--prefix",
                   "--compress", "--master", "--gcs-bucket", "--s3-bucket"):  # fmt: skip
        assert option in result.output
