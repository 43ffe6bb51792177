"""Synthetic telemetry: schemas, partitions, determinism, skew and every dirty-row kind."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from taar_fixtures.amo import PIONEER_GUID, generate_catalogue
from taar_fixtures.telemetry import (
    ACTIVE_ADDONS,
    default_addon_guids,
    generate_client_ids,
    last_seen_dates,
    write_clients_daily,
    write_clients_last_seen,
    write_deletion_requests,
)

DATES = [dt.date(2026, 11, 19), dt.date(2026, 11, 20)]
N_CLIENTS = 20_000


@pytest.fixture(scope="module")
def guids():
    return default_addon_guids(generate_catalogue(800, seed=3))


@pytest.fixture(scope="module")
def daily(tmp_path_factory, guids):
    out = tmp_path_factory.mktemp("telemetry")
    return write_clients_daily(out, n_clients=N_CLIENTS, dates=DATES, seed=11, addon_guids=guids, chunk_size=8_000)


@pytest.fixture(scope="module")
def rows(daily):
    return ds.dataset(
        daily, partitioning=ds.partitioning(pa.schema([("submission_date_s3", pa.string())]), flavor="hive")
    ).to_table()


def test_partition_folders_and_part_files(daily):
    assert sorted(p.name for p in daily.iterdir()) == ["submission_date_s3=20261119", "submission_date_s3=20261120"]
    for folder in daily.iterdir():
        assert sorted(p.name for p in folder.iterdir()) == [
            "part-00000.parquet",
            "part-00001.parquet",
            "part-00002.parquet",
        ]


def test_clients_daily_schema_is_exact(daily):
    schema = pq.read_schema(daily / "submission_date_s3=20261120" / "part-00000.parquet")
    assert schema.names == [
        "client_id", "channel", "normalized_channel", "app_name", "locale", "city", "os",
        "subsession_hours_sum", "places_bookmarks_count_mean",
        "scalar_parent_browser_engagement_tab_open_event_count_sum",
        "scalar_parent_browser_engagement_total_uri_count_sum",
        "scalar_parent_browser_engagement_unique_domains_count_mean", "active_addons",
    ]  # fmt: skip
    assert "submission_date_s3" not in schema.names
    assert schema.field("subsession_hours_sum").type == pa.float64()
    assert schema.field("scalar_parent_browser_engagement_tab_open_event_count_sum").type == pa.int64()
    struct = schema.field("active_addons").type.value_type
    assert [(f.name, str(f.type)) for f in struct] == [
        ("addon_id", "string"), ("blocklisted", "bool"), ("name", "string"), ("user_disabled", "bool"),
        ("app_disabled", "bool"), ("version", "string"), ("scope", "int64"), ("type", "string"),
        ("foreign_install", "bool"), ("has_binary_components", "bool"), ("install_day", "int64"),
        ("update_day", "int64"), ("signed_state", "int64"), ("is_system", "bool"), ("is_web_extension", "bool"),
        ("multiprocess_compatible", "bool"),
    ]  # fmt: skip


def test_same_seed_same_bytes(tmp_path, guids):
    args = {"n_clients": 3_000, "dates": DATES[:1], "seed": 5, "addon_guids": guids, "chunk_size": 2_000}
    first, second = write_clients_daily(tmp_path / "a", **args), write_clients_daily(tmp_path / "b", **args)
    files = sorted(p.relative_to(first) for p in first.rglob("*.parquet"))
    assert len(files) == 2
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)
    other = write_clients_daily(tmp_path / "c", **{**args, "seed": 6})
    assert (other / files[0]).read_bytes() != (first / files[0]).read_bytes()


def test_client_ids_are_the_generated_ones(rows):
    ids = generate_client_ids(N_CLIENTS, 11)
    assert len(set(ids)) == N_CLIENTS and all(len(i) == 36 and i[14] == "4" for i in ids[:100])
    seen = set(rows["client_id"].drop_null().to_pylist())
    assert seen <= set(ids)
    assert len(seen) > N_CLIENTS * 0.75


def test_clients_come_and_go_and_metrics_vary_by_day(rows):
    per_day = Counter(rows["submission_date_s3"].to_pylist())
    assert 0.55 * N_CLIENTS < per_day["20261120"] < 0.78 * N_CLIENTS
    table = rows.select(["client_id", "submission_date_s3", "subsession_hours_sum"]).drop_null()
    by_client: dict[str, set] = {}
    for cid, hours in zip(table["client_id"].to_pylist(), table["subsession_hours_sum"].to_pylist(), strict=True):
        by_client.setdefault(cid, set()).add(hours)
    twice = [h for h in by_client.values() if len(h) > 1]
    assert len(twice) > N_CLIENTS * 0.3


def test_addon_popularity_is_skewed_and_overlaps_the_catalogue(rows, guids):
    entries = pc.list_flatten(rows["active_addons"])
    ids = Counter(pc.struct_field(entries, "addon_id").drop_null().to_pylist())
    in_catalogue = sum(n for g, n in ids.items() if g in set(guids))
    assert in_catalogue > 0.6 * sum(ids.values())
    ranked = [n for _, n in ids.most_common()]
    assert ranked[0] > 50 * ranked[len(ranked) // 2]
    sizes = pc.list_value_length(rows["active_addons"]).drop_null().to_numpy()
    assert sizes.max() == 15 and 0.2 < (sizes == 0).mean() < 0.3 and (sizes <= 3).mean() > 0.6


def test_every_dirty_row_kind_is_present(rows):
    addons = rows["active_addons"]
    entries = pc.list_flatten(addons)

    def some(array, value=True) -> int:
        return pc.sum(pc.equal(array, value)).as_py() or 0

    assert rows["client_id"].null_count > 0
    assert addons.null_count > 0
    assert some(pc.list_value_length(addons), 0) > 0
    assert pc.struct_field(entries, "addon_id").null_count > 0
    for flag in ("blocklisted", "user_disabled", "app_disabled", "foreign_install", "is_system", "signed_state"):
        assert pc.struct_field(entries, flag).null_count > 0, flag
    for flag in ("is_system", "user_disabled", "app_disabled", "foreign_install", "blocklisted"):
        assert some(pc.struct_field(entries, flag)) > 0, flag
    assert some(pc.not_equal(pc.struct_field(entries, "signed_state"), 2)) > 0
    assert set(pc.struct_field(entries, "type").to_pylist()) == {"extension", "theme", "dictionary", "locale"}
    assert some(pc.struct_field(entries, "addon_id"), PIONEER_GUID) > 0
    assert {"release", "beta", "nightly", "esr"} <= set(rows["channel"].to_pylist())
    assert {"Firefox", "Fennec", "Thunderbird"} <= set(rows["app_name"].to_pylist())
    for metric in ("subsession_hours_sum", "scalar_parent_browser_engagement_total_uri_count_sum"):
        assert rows[metric].null_count > 0
    lists = [[e["addon_id"] for e in a] for a in addons.to_pylist() if a]
    assert any(len(ids) != len(set(ids)) for ids in lists)
    day = rows.filter(pc.equal(rows["submission_date_s3"], "20261120")).drop_columns(["active_addons"]).drop_null()
    keys = Counter(zip(*(day[c].to_pylist() for c in day.column_names), strict=True))
    assert max(keys.values()) == 2


def test_clients_last_seen_columns_and_dates(tmp_path, guids):
    root = write_clients_last_seen(tmp_path, n_clients=4_000, date=DATES[1], seed=11, addon_guids=guids)
    table = pq.read_table(root / "part-00000.parquet")
    assert table.schema.names == [
        "submission_date", "client_id", "city", "locale", "os", "subsession_hours_sum",
        "places_bookmarks_count_mean", "scalar_parent_browser_engagement_tab_open_event_count_sum",
        "scalar_parent_browser_engagement_total_uri_count_sum",
        "scalar_parent_browser_engagement_unique_domains_count_mean", "active_addons",
    ]  # fmt: skip
    assert table.schema.field("submission_date").type == pa.date32()
    assert table.schema.field("active_addons").type == ACTIVE_ADDONS
    days = Counter(table["submission_date"].to_pylist())
    assert set(days) == set(last_seen_dates(DATES[1])) == {dt.date(2026, 11, d) for d in (18, 19, 20, 21)}
    assert table["client_id"].null_count > 0 and table["active_addons"].null_count > 0


def test_deletion_requests_hit_known_clients_inside_and_outside_the_window(tmp_path):
    ids = generate_client_ids(5_000, 11)
    root = write_deletion_requests(tmp_path, date=DATES[1], seed=11, client_ids=ids, days=7, n_requests=200)
    table = pq.read_table(root / "part-00000.parquet")
    assert table.schema == pa.schema([("client_id", pa.string()), ("submission_timestamp", pa.timestamp("us", "UTC"))])
    assert table.num_rows == 201 and table["client_id"].null_count == 1
    known, start = set(ids), dt.datetime(2026, 11, 13, tzinfo=dt.UTC)
    end = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    kinds = Counter(
        ("known" if cid in known else "unknown", start <= ts < end)
        for cid, ts in zip(table["client_id"].to_pylist(), table["submission_timestamp"].to_pylist(), strict=True)
        if cid
    )
    assert kinds == {("known", True): 120, ("known", False): 40, ("unknown", True): 40}


def test_a_million_clients_fit_in_a_quick_size_budget(tmp_path, guids):
    root = write_clients_daily(tmp_path, n_clients=50_000, dates=DATES[1:], seed=1, addon_guids=guids)
    size = sum(p.stat().st_size for p in root.rglob("*.parquet"))
    assert 1_000_000 < size < 6_000_000  # ~60 MB per million clients and day
