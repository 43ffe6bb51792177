"""Small hand-made artifacts, laid out as the jobs publish them, for the collect and page tests."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from taar_common.artifacts import positive_hash
from taar_common.storage import encode_json

GUIDS = ["adblock@example.com", "{0b4c9a63-4f55-4d8a-9d3e-6d2f5b1c7a01}", "tabs@example.com", "dark@example.com"]
EXTRA = ["pioneer-opt-in@mozilla.org", "old@example.com"]
DATA_DATE = "20240501"


def addon_record(guid: str, name: Any, *, featured: bool = False) -> dict[str, Any]:
    return {
        "guid": guid,
        "categories": {"firefox": ["privacy-security"]},
        "default_locale": "en-US",
        "description": None,
        "name": name,
        "summary": None,
        "tags": [],
        "weekly_downloads": 10,
        "average_daily_users": 100,
        "ratings": {"average": 4.2, "count": 10},
        "current_version": {"files": [{"id": 1, "platform": "all", "status": "public", "is_webextension": True}]},
        "promoted": None,
        "is_featured": featured,
        "created": "2020-01-01T00:00:00Z",
        "first_create_date": "2020-01-01T00:00:00Z",
    }


def sample_artifacts() -> dict[str, Any]:
    """name -> payload; the editorial list is short on purpose (its check fails without --allow-shortlist)."""
    names = {
        GUIDS[0]: "Ad Blocker",
        GUIDS[1]: {"en-US": "Password Keeper", "de": "Passwortwart"},
        GUIDS[2]: "Tab Tamer",
        GUIDS[3]: "Dark Mode",
        EXTRA[0]: "Pioneer",
        EXTRA[1]: "Old Thing",
    }
    dump = {g: addon_record(g, n, featured=g in (GUIDS[0], GUIDS[1], EXTRA[1])) for g, n in names.items()}
    whitelist = {g: dump[g] for g in GUIDS}
    featured = {g: r for g, r in dump.items() if r["is_featured"]}
    featured_whitelist = {g: r for g, r in featured.items() if g in whitelist}
    a, b, c, d = GUIDS
    coinstallation = {a: {b: 30, c: 12}, b: {a: 30, c: 5, d: 2}, c: {a: 12, b: 5}, d: {b: 2}}
    ranking = {a: 300, b: 120, c: 80, d: 80, EXTRA[1]: 3}
    top10 = {
        "en-US": [[a, 0.4], [b, 0.3], [c, 0.2], [d, 0.1]],
        "de": [[b, 0.5], [a, 0.3], [d, 0.2]],
        "fr": [[c, 0.6], [a, 0.4]],
    }
    scores = [i / 10 for i in range(60)]
    lr_curves = [[s, [math.exp(-((s - 1.5) ** 2)) / 1.77, math.exp(-((s - 3.5) ** 2) / 2) / 2.5]] for s in scores]
    donor = {
        "geo_city": "Berlin",
        "locale": "de",
        "os": "Linux",
        "subsession_length": 3600,
        "bookmark_count": 5,
        "tab_open_count": 9,
        "total_uri": 40,
        "unique_tlds": 7,
        "active_addons": [a, b, c],
    }
    return {
        "extended_addons_database": dump,
        "whitelist_addons_database": whitelist,
        "featured_addons_database": featured,
        "featured_whitelist_addons": featured_whitelist,
        "only_guids_top_200": sorted(GUIDS),
        "guid_coinstallation": coinstallation,
        "guid_install_ranking": ranking,
        "top10_dict": top10,
        "lr_curves": lr_curves,
        "donors": [donor, {**donor, "geo_city": "Paris", "locale": "fr"}],
        "item_matrix": [{"id": positive_hash(g), "features": [0.5, -0.25]} for g in (a, b, c)],
        "addon_mapping": {str(positive_hash(g)): {"id": g, "name": g, "isWebextension": True} for g in (a, b, c)},
        "ensemble_weight": {"ensemble_weights": {"collaborative": 0.5, "similarity": 0.3, "locale": 0.2}},
    }


def sample_runs() -> list[dict[str, Any]]:
    def run(job: str, status: str = "ok", counts: dict | None = None, total: float = 1.0, **extra: Any) -> dict:
        return {
            "job": job,
            "status": status,
            "counts": counts or {},
            "durations_s": {"total": total},
            "artifacts": [],
            **extra,
        }

    return [
        run("amodump", counts={"addons": 6}, total=12.5),
        run("spark_lite", counts={"coinstallation_pairs": 4}, total=30.25),
        run(
            "profile_bigtable",
            counts={"rows_written": 120, "avro_files_loaded": 2},
            total=4.0,
            details={"stage": "gcs-to-bigtable"},
        ),
        run(
            "profile_bigtable",
            counts={"deletion_requests": 9, "rows_deleted": 7},
            total=0.5,
            details={"stage": "delete-opt-out"},
        ),
        run("spark_similarity", status="failed", total=2.0, error="RuntimeError: boom"),
    ]


def profile_stage_runs() -> list[dict[str, Any]]:
    """The seven profile_bigtable stages with the counts their summaries carry (a wide table if drawn naively)."""
    stages = {
        "fill-bq": {"source_rows": 1200, "null_client_id_rows_dropped": 3, "profiles": 1197},
        "bq-to-gcs": {"avro_files": 2, "rows": 1197},
        "gcs-to-bigtable": {
            "table_created": 1,
            "avro_files_total": 2,
            "avro_files_loaded": 2,
            "rows_written": 1197,
            "rows_without_client_id_skipped": 0,
        },
        "wipe-bigquery-tmp-table": {"tables_dropped": 1},
        "wipe-avro": {"avro_files_deleted": 2},
        "delete-opt-out": {"deletion_requests": 40, "rows_deleted": 31},
    }
    return [
        {
            "job": "profile_bigtable",
            "status": "ok",
            "counts": counts,
            "durations_s": {"total": 1.0},
            "details": {"stage": stage},
        }
        for stage, counts in stages.items()
    ]


LAYOUT = {
    "extended_addons_database": "telemetry-ml/addon_recommender",
    "whitelist_addons_database": "telemetry-ml/addon_recommender",
    "featured_addons_database": "telemetry-ml/addon_recommender",
    "featured_whitelist_addons": "telemetry-ml/addon_recommender",
    "only_guids_top_200": "telemetry-ml/addon_recommender",
    "guid_coinstallation": "taar/lite",
    "guid_install_ranking": "taar/lite",
    "top10_dict": "taar/locale",
    "lr_curves": "taar/similarity",
    "donors": "taar/similarity",
    "item_matrix": "addon_recommender",
    "addon_mapping": "addon_recommender",
    "ensemble_weight": "taar/ensemble",
}


def write_bucket(
    root: Path,
    artifacts: dict[str, Any],
    runs: list[dict] | None = None,
    bz2: set[str] = frozenset(),
    date: str | None = DATA_DATE,
) -> Path:
    """Write artifacts under `root` as the jobs publish them: the dated copy `NAME<date>`
    (when `date` is given), then the latest copy; `bz2` names get `.json.bz2`. Returns root."""
    for name, payload in artifacts.items():
        folder = root / LAYOUT[name]
        folder.mkdir(parents=True, exist_ok=True)
        compress = "bz2" if name in bz2 else None
        suffix = ".json.bz2" if compress else ".json"
        data = encode_json(payload, compress)
        if date is not None:
            (folder / f"{name}{date}{suffix}").write_bytes(data)
        (folder / f"{name}{suffix}").write_bytes(data)
    if runs is not None:
        (root / "demo-runs.json").write_text(json.dumps(runs))
    return root


def identical_lr_curves(curves: list[Any]) -> list[Any]:
    """The same grid with the denominator replaced by the numerator: curves that cannot separate."""
    return [[score, [numerator, numerator]] for score, (numerator, _denominator) in curves]


@pytest.fixture
def sample_bucket(tmp_path: Path) -> Path:
    return write_bucket(tmp_path / "bucket", sample_artifacts(), sample_runs(), bz2={"guid_coinstallation"})
