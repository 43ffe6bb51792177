"""Fixtures of the spark_ensemble tests (the shared `spark` session comes from taar_testing)."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest
from taar_common.artifacts import check_artifact
from taar_common.storage import Storage
from taar_fixtures.amo import generate_catalogue
from taar_fixtures.models import addon_mapping, random_donors, random_item_matrix
from taar_fixtures.telemetry import LOCALES, write_clients_daily

DAY = dt.date(2026, 11, 27)
DAYS = [DAY - dt.timedelta(days=k) for k in (2, 1, 0)]


@pytest.fixture
def storage() -> Storage:
    return Storage()


def write_models(folder: Path, whitelist: list[str], seed: int = 5) -> dict[str, str]:
    """Hand-made artifacts in the published formats over `whitelist` (seeded)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    top10 = {}
    for locale in LOCALES:
        picks = rng.sample(whitelist, 10)
        weights = sorted((rng.random() / 10 for _ in picks), reverse=True)
        top10[locale] = [[g, w] for g, w in zip(picks, weights, strict=True)]
    donors = random_donors(rng, whitelist, 50, addons_per_donor=4)
    lr_curves = [[x / 10, [max(0.05, 3.0 - x / 5), 1.0]] for x in range(60)]
    items = random_item_matrix(rng, whitelist, rank=4)
    mapping = addon_mapping(whitelist)
    payloads = {"top10_dict": top10, "donors": donors, "lr_curves": lr_curves,
                "item_matrix": items, "addon_mapping": mapping}  # fmt: skip
    urls = {}
    for name, payload in payloads.items():
        check_artifact(name, payload, **({"addon_mapping": mapping} if name == "item_matrix" else {}))
        (folder / f"{name}.json").write_text(json.dumps(payload))
        urls[name] = str(folder / f"{name}.json")
    whitelist_url = folder / "only_guids_top_200.json"
    whitelist_url.write_text(json.dumps(whitelist))
    urls["whitelist"] = str(whitelist_url)
    return urls


def model_args(urls: dict[str, str]) -> list[str]:
    return [
        "--whitelist-url", urls["whitelist"], "--locale-url", urls["top10_dict"], "--donors-url", urls["donors"],
        "--lr-curves-url", urls["lr_curves"], "--item-matrix-url", urls["item_matrix"],
        "--addon-mapping-url", urls["addon_mapping"],
    ]  # fmt: skip


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    """2,000 generated clients over three days; a whitelist of 60 popular catalogue GUIDs."""
    root = tmp_path_factory.mktemp("ensemble-input")
    guids = list(generate_catalogue(80, 0).guids)
    input_url = str(write_clients_daily(root, n_clients=2000, dates=DAYS, seed=3, addon_guids=guids))
    return {"input": input_url, "models": write_models(root / "models", guids[:60])}
