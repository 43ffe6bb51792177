"""spark_locale end to end: generated clients_daily over several days, the CLI, DuckDB + the formula as referee."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from taar_common.lease import Lease, lease_url
from taar_common.storage import join_url
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.handmade import addon, client
from taar_fixtures.telemetry import write_clients_daily
from taar_spark_locale.cli import main
from taar_spark_locale.transform import laplace_noise
from taar_testing.handmade_inputs import HandmadeInputs, InputFailures, write_handmade_inputs
from taar_testing.spark_jobs import seeded_runs

DAY = dt.date(2026, 11, 27)
DATES = [DAY - dt.timedelta(days=k) for k in (2, 1, 0)]
N_CLIENTS = 2000


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    """2,000 generated clients over 3 days (dirty rows included); an editorial list of 60 GUIDs."""
    root = tmp_path_factory.mktemp("locale-input")
    guids = list(generate_catalogue(300, 0).guids)
    input_url = str(write_clients_daily(root, n_clients=N_CLIENTS, dates=DATES, seed=5, addon_guids=guids))
    whitelist = sorted(guids[1:61])
    whitelist_url = str(root / "only_guids_top_200.json")
    Path(whitelist_url).write_text(json.dumps(whitelist))
    return {"input": input_url, "whitelist": whitelist, "whitelist_url": whitelist_url}


def duckdb_counts(input_url: str, whitelist: list[str]) -> tuple[dict[str, dict[str, int]], int]:
    """Per-locale client counts of valid signed whitelisted add-ons on each client's latest row (every
    add-on counted: the test runs with m larger than any client's add-on list), and null-id rows.

    `arg_max_null`, not `arg_max`: the latest row counts even when its add-ons are null."""
    con = duckdb.connect()
    con.execute("CREATE TABLE whitelist AS SELECT unnest(?::VARCHAR[]) AS guid", [whitelist])
    con.execute(f"""
        CREATE VIEW rows AS SELECT * FROM read_parquet('{input_url}/*/*.parquet', hive_partitioning = true)
    """)
    con.execute("""
        CREATE TABLE latest AS
        SELECT client_id, arg_max_null(locale, submission_date_s3) AS locale,
               arg_max_null(active_addons, submission_date_s3) AS active_addons
        FROM rows WHERE client_id IS NOT NULL AND channel = 'release' AND app_name = 'Firefox'
        GROUP BY client_id
    """)
    counts = con.execute("""
        WITH installed AS (SELECT client_id, locale, unnest(active_addons) AS a FROM latest WHERE locale IS NOT NULL),
        valid AS (
            SELECT DISTINCT client_id, locale, a.addon_id AS guid FROM installed
            WHERE a.type = 'extension' AND a.addon_id IS NOT NULL AND a.addon_id <> 'pioneer-opt-in@mozilla.org'
              AND NOT coalesce(a.is_system, false) AND NOT coalesce(a.user_disabled, false)
              AND NOT coalesce(a.app_disabled, false) AND NOT coalesce(a.foreign_install, false)
              AND NOT coalesce(a.blocklisted, false) AND coalesce(a.signed_state, 0) = 2
              AND a.addon_id IN (SELECT guid FROM whitelist)
        )
        SELECT locale, guid, count(*) FROM valid GROUP BY locale, guid
    """).fetchall()
    by_locale: dict[str, dict[str, int]] = {}
    for locale, guid, n in counts:
        by_locale.setdefault(locale, {})[guid] = n
    null_ids = con.execute("SELECT count(*) FROM rows WHERE client_id IS NULL").fetchone()[0]
    return by_locale, null_ids


def expected_top(counts: dict, whitelist: list[str], *, scale: float, seed: int, num_addons: int) -> dict:
    """The contract's formula written out: noisy counts, shift by the minimum, normalise, top N."""
    result = {}
    for locale, observed in counts.items():
        noise = laplace_noise(locale, whitelist, scale, seed)
        noisy = {guid: observed.get(guid, 0) + float(noise[i]) for i, guid in enumerate(whitelist)}
        low = min(noisy.values())
        total = sum(v - low for v in noisy.values())
        weights = sorted(((guid, (v - low) / total) for guid, v in noisy.items()), key=lambda p: (-p[1], p[0]))
        result[locale] = weights[:num_addons]
    return result


def run_cli(*args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(main, list(args))
    lines = result.stdout.strip().splitlines()
    return result.exit_code, (json.loads(lines[-1]) if lines else {}), result.stderr


def test_output_matches_duckdb_counts_and_the_noise_formula(generated, storage, tmp_path):
    bucket = str(tmp_path / "out")
    code, summary, stderr = run_cli(
        "--date", f"{DAY:%Y%m%d}", "--input", generated["input"], "--whitelist-url", generated["whitelist_url"],
        "--num-days", "5", "--num-addons", "7", "--epsilon", "2.0", "--max-addons-per-client", "20", "--seed", "9",
        "--bucket", bucket,
    )  # fmt: skip
    assert code == 0, stderr
    counts, null_ids = duckdb_counts(generated["input"], generated["whitelist"])
    expected = expected_top(counts, generated["whitelist"], scale=20 / 2.0, seed=9, num_addons=7)
    published = storage.read_json(join_url(bucket, "taar/locale/top10_dict.json"))
    assert sorted(published) == sorted(expected) and len(expected) > 5
    for locale, pairs in expected.items():
        assert [g for g, _ in published[locale]] == [g for g, _ in pairs], locale
        assert [w for _, w in published[locale]] == pytest.approx([w for _, w in pairs], rel=1e-9, abs=1e-12)
    assert summary["counts"]["null_client_id_rows"] == null_ids > 0
    assert summary["counts"]["contributions"] == sum(sum(c.values()) for c in counts.values())
    assert storage.read_bytes(join_url(bucket, "taar/locale/top10_dict20261127.json")) == storage.read_bytes(
        join_url(bucket, "taar/locale/top10_dict.json")
    )


def test_same_seed_same_bytes(generated, tmp_path, storage):
    def published(seed: int, bucket: str) -> bytes:
        code, _, stderr = run_cli(
            "--date", f"{DAY:%Y%m%d}", "--input", generated["input"], "--whitelist-url", generated["whitelist_url"],
            "--num-days", "3", "--seed", str(seed), "--bucket", bucket, "--compress", "bz2",
        )  # fmt: skip
        assert code == 0, stderr
        return storage.read_bytes(join_url(bucket, "taar/locale/top10_dict.json.bz2"))

    first, again, other = seeded_runs(published, tmp_path, seed=4)
    assert first == again
    assert first != other


@pytest.fixture
def small_input(tmp_path) -> HandmadeInputs:
    return write_handmade_inputs(tmp_path, DAY, [client("c1", [addon("a@x")]), client(None, [])], ["a@x", "b@x"])


def run_small(
    small_input: HandmadeInputs, *extra: str, date: str = "20261127", **overrides: str
) -> tuple[int, dict, str]:
    return run_cli(*small_input.options(date, **overrides), *extra)


class TestInputFailures(InputFailures):
    run = staticmethod(run_small)
    missing_date = "20261128"
    empty_whitelist = "[]"


def _seed_latest(storage, bucket: str, locales: list[str]) -> tuple[str, bytes]:
    latest = join_url(bucket, "taar/locale/top10_dict.json")
    storage.write_json(latest, {locale: [["a@x", 0.6], ["b@x", 0.4]] for locale in locales})
    return latest, storage.read_bytes(latest)


def test_a_run_while_another_holds_the_lease_fails_naming_the_holder(small_input, storage):
    latest, before = _seed_latest(storage, small_input.bucket, ["en-US"])
    with Lease(storage, lease_url(small_input.bucket, "taar/locale/", "spark_locale"), "spark_locale") as held:
        code, summary, _ = run_small(small_input)
    assert code == 1
    assert "LeaseHeldError" in summary["error"] and f"run_id={held.run_id}" in summary["error"]
    assert storage.read_bytes(latest) == before
    assert not storage.exists(join_url(small_input.bucket, "taar/locale/top10_dict20261127.json"))


def test_far_fewer_locales_trip_the_shrink_guard_unless_allowed(small_input, storage):
    latest, before = _seed_latest(storage, small_input.bucket, ["de", "en-US", "fr", "it", "pl"])
    code, summary, _ = run_small(small_input)
    assert code == 1
    assert "PublishGuardError" in summary["error"]
    assert "has 1 records" in summary["error"] and "has 5" in summary["error"]
    assert storage.read_bytes(latest) == before
    assert not storage.exists(join_url(small_input.bucket, "taar/locale/top10_dict20261127.json"))
    code, _, stderr = run_small(small_input, "--allow-shrink")
    assert code == 0, stderr
    assert sorted(storage.read_json(latest)) == ["en-US"]


def test_help_explains_every_option():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for option in ("--date", "--input", "--whitelist-url", "--num-days", "--num-addons", "--epsilon",
                   "--max-addons-per-client", "--seed", "--bucket", "--prefix", "--compress"):  # fmt: skip
        assert option in result.output
