"""The noise domain excludes what the validity rule excludes by GUID: Pioneer never reaches top10_dict.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner
from taar_common.whitelist import PIONEER_GUID, recommendable_guids
from taar_fixtures.handmade import addon, client, write_partition
from taar_spark_locale import transform
from taar_spark_locale.cli import main

DAY = dt.date(2026, 11, 27)
WHITELIST = [PIONEER_GUID, *(f"addon-{i}@example.org" for i in range(10))]


def test_pioneer_never_enters_a_locales_top_over_many_seeds():
    # 11 whitelisted add-ons, top 10 kept: with Pioneer in the domain it would be kept in
    # nearly every locale and seed; Laplace noise of scale m/epsilon = 2.5 dominates counts of 1.
    counts = {locale: {"addon-0@example.org": 1} for locale in ("en-US", "de", "fr", "ja")}
    appearances = 0
    for seed in range(200):
        top = transform.noisy_top_addons(
            counts, WHITELIST, epsilon=0.4, max_addons_per_client=1, num_addons=10, seed=seed
        )
        for pairs in top.values():
            assert len(pairs) == 10
            appearances += sum(guid == PIONEER_GUID for guid, _ in pairs)
            assert sum(w for _, w in pairs) <= 1 + 1e-9
    assert appearances == 0


def test_weights_are_normalised_over_the_domain_without_pioneer():
    top = transform.noisy_top_addons(
        {"x": {"addon-0@example.org": 3}}, WHITELIST, epsilon=float("inf"), max_addons_per_client=1,
        num_addons=20, seed=0,
    )  # fmt: skip
    assert [g for g, _ in top["x"]] == recommendable_guids(WHITELIST)
    assert top["x"][0] == ["addon-0@example.org", 1.0]


def test_recommendable_guids_drop_only_the_rules_guid_exclusions():
    assert recommendable_guids(["b", PIONEER_GUID, "a", "b"]) == ["a", "b"]


def test_job_with_pioneer_whitelisted_and_installed_never_publishes_it(spark, tmp_path):
    clients = [client(f"c{i}", [addon(PIONEER_GUID), addon("addon-1@example.org")]) for i in range(30)]
    root = write_partition(tmp_path / "clients_daily", DAY, clients)
    whitelist_url = tmp_path / "only_guids_top_200.json"
    whitelist_url.write_text(json.dumps(WHITELIST))
    for seed in range(3):
        out = tmp_path / f"out{seed}"
        result = CliRunner().invoke(
            main,
            ["--date", "20261127", "--input", str(root), "--whitelist-url", str(whitelist_url), "--bucket", str(out),
             "--seed", str(seed), "--num-days", "1"],
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        published = json.loads(next(Path(out).rglob("top10_dict.json")).read_text())
        assert published and all(g != PIONEER_GUID for pairs in published.values() for g, _ in pairs)
