"""The collaborative transforms on small hand-made rows with exact expected outputs."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from taar_common.artifacts import positive_hash
from taar_common.hashing import hash_client_id
from taar_fixtures.handmade import addon, client, invalid_addons
from taar_spark_collaborative import transform
from taar_testing.handmade_inputs import clients_daily_frame

DAY = dt.date(2026, 11, 27)
WHITELIST = ["a@x", "b@x", "c@x", "d@x"]


@pytest.fixture(scope="module")
def window_frame(spark, tmp_path_factory):
    """Two days: c1 changes its add-ons (latest wins), plus every kind of dirty row the contract names."""
    return clients_daily_frame(
        spark,
        tmp_path_factory.mktemp("clients_daily"),
        {
            DAY - dt.timedelta(days=3): [
                client("c1", [addon("d@x")]),  # superseded by c1's later row
                client("c4", [addon("c@x"), addon("d@x")]),  # c4 seen only on the earlier day
            ],
            DAY: [
                client("c1", [addon("a@x"), addon("b@x"), addon("a@x")]),  # duplicate id counts once
                client("c2", [addon("a@x"), addon("x@x"), addon("b@x", user_disabled=True)]),
                client(
                    "c3",
                    [
                        addon("c@x", blocklisted=None, is_system=None, foreign_install=None, user_disabled=None),
                        *invalid_addons(),
                        addon(None),
                    ],
                ),
                client(None, [addon("a@x")]),
                client("c5", [addon("a@x")], channel="beta"),
                client("c6", [addon("a@x")], app_name="Fennec"),
                client("c7", None),
                client("c8", [addon("x@x")]),  # nothing whitelisted: no user
            ],
        },
    )


def sha(client_id: str) -> str:
    return hashlib.sha256(client_id.encode()).hexdigest()


def test_latest_row_per_client_with_valid_addons_and_hashed_ids(window_frame):
    rows = transform.latest_client_addons(window_frame).collect()
    assert {row["client_key"]: row["addon_ids"] for row in rows} == {
        sha("c1"): ["a@x", "b@x"],
        sha("c2"): ["a@x", "x@x"],
        sha("c3"): ["c@x"],
        sha("c4"): ["c@x", "d@x"],
        sha("c7"): [],
        sha("c8"): ["x@x"],
    }


def test_spark_hash_is_taar_commons_client_hash(spark):
    frame = spark.createDataFrame([("c1",), ("ü-é 💡",)], "client_id string")
    hashed = {
        row["client_id"]: row["h"]
        for row in frame.select("client_id", transform.hashed_client_id().alias("h")).collect()
    }
    assert hashed == {cid: hash_client_id(cid) for cid in ("c1", "ü-é 💡")}


def test_ratings_one_per_client_and_whitelisted_addon_with_dense_users(window_frame):
    items = transform.item_ids(WHITELIST)
    clients = transform.latest_client_addons(window_frame)
    rows = transform.ratings(clients, items, num_partitions=3).collect()
    # users are the ranks of the hashed ids among clients with a whitelisted add-on
    order = sorted([sha("c1"), sha("c2"), sha("c3"), sha("c4")])
    user = {cid: order.index(sha(cid)) for cid in ("c1", "c2", "c3", "c4")}
    expected = {
        (user["c1"], items["a@x"]),
        (user["c1"], items["b@x"]),
        (user["c2"], items["a@x"]),
        (user["c3"], items["c@x"]),
        (user["c4"], items["c@x"]),
        (user["c4"], items["d@x"]),
    }
    assert sorted((r["user"], r["item"]) for r in rows) == sorted(expected)
    assert {r["rating"] for r in rows} == {1.0}
    assert sorted({r["user"] for r in rows}) == [0, 1, 2, 3]


def test_positive_hash_matches_java_string_hashcode():
    # Java: "hello".hashCode() == 99162322; "polygenelubricants".hashCode() == Integer.MIN_VALUE;
    # "" hashes to 0; a negative hashCode keeps its low 23 bits.
    assert positive_hash("hello") == 99162322 & 0x7FFFFF == 6887634
    assert positive_hash("polygenelubricants") == 0
    assert positive_hash("") == 0
    assert positive_hash("uBlock0@raymondhill.net") == 469578
    # "Aa" and "BB" share a hashCode (2112), so do any GUIDs that only differ there
    assert positive_hash("Aa@x") == positive_hash("BB@x")


def test_positive_hash_counts_code_points_as_the_service_does():
    # The service iterates Python characters; Java would iterate the two UTF-16 surrogates of U+1F4A1.
    assert positive_hash("💡") == 0x1F4A1
    java_utf16 = (31 * 0xD83D + 0xDCA1) & 0x7FFFFF
    assert positive_hash("💡") != java_utf16


def test_item_id_collision_fails_naming_both_guids():
    with pytest.raises(transform.ItemIdCollisionError, match=r"'Aa@x' and 'BB@x' share item id"):
        transform.item_ids(["a@x", "BB@x", "Aa@x"])


def test_item_ids_leave_out_pioneer():
    assert transform.item_ids(["a@x", "pioneer-opt-in@mozilla.org"]) == {"a@x": positive_hash("a@x")}


def test_item_matrix_is_sorted_with_short_float32_features():
    rows = [{"id": 9, "features": [0.10000000149011612, -2.5]}, {"id": 3, "features": [1.0, 1 / 3]}]
    assert transform.item_matrix(rows) == [
        {"id": 3, "features": [1.0, 0.33333334]},
        {"id": 9, "features": [0.1, -2.5]},
    ]


def test_addon_mapping_names_from_records_or_guid():
    items = transform.item_ids(["a@x", "b@x", "c@x"])
    matrix = [{"id": items[g], "features": [0.0]} for g in ("a@x", "b@x", "c@x")]
    records = {"a@x": {"name": {"fr": "Ah", "en-US": "Aye"}}, "b@x": {"name": "Bee"}}
    assert transform.addon_mapping(matrix, items, records) == {
        str(items["a@x"]): {"id": "a@x", "name": "Aye", "isWebextension": True},
        str(items["b@x"]): {"id": "b@x", "name": "Bee", "isWebextension": True},
        str(items["c@x"]): {"id": "c@x", "name": "c@x", "isWebextension": True},
    }


def test_als_fits_factors_of_the_rank_for_every_rated_item(window_frame):
    items = transform.item_ids(WHITELIST)
    ratings = transform.ratings(transform.latest_client_addons(window_frame), items, num_partitions=2)
    params = transform.AlsParams(rank=3, reg_param=0.1, alpha=10.0, max_iter=5, seed=1)
    factors = transform.fit(ratings, params).itemFactors.collect()
    assert sorted(row["id"] for row in factors) == sorted(items.values())
    assert {len(row["features"]) for row in factors} == {3}
