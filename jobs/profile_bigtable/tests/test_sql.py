"""The one SQL text: valid BigQuery, and its DuckDB transpilation computes what we compute by hand."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import sqlglot
from conftest import DAY, addon, client_row, write_clients_last_seen
from sqlglot import exp
from taar_common.hashing import hash_client_id
from taar_profile_bigtable import queries
from taar_profile_bigtable.warehouses import DuckDBWarehouse

NULLED_FOR_CLIENT_C = (
    "city", "subsession_hours_sum", "places_bookmarks_count_mean",
    "scalar_parent_browser_engagement_tab_open_event_count_sum",
    "scalar_parent_browser_engagement_total_uri_count_sum",
    "scalar_parent_browser_engagement_unique_domains_count_mean",
)  # fmt: skip
"""client-c's null fields: its city and every metric the profile carries."""


@pytest.mark.parametrize("name", ["fill_profiles", "source_stats", "deletion_keys"])
def test_sql_files_are_valid_bigquery(name):
    rendered = queries.render(
        name,
        destination_table="proj.taar_tmp.taar_tmp_profile",
        source_table="moz-fx-data-shared-prod.telemetry.clients_last_seen",
        deletion_table="moz-fx-data-shared-prod.telemetry.deletion_request",
    )
    statements = sqlglot.parse(rendered, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
    assert len(statements) == 1
    # bqemulator counts parameters textually, comments included
    assert not [line for line in rendered.splitlines() if line.lstrip().startswith("--") and "@" in line]
    tables = {".".join(p.name for p in t.parts) for t in statements[0].find_all(exp.Table)}
    assert tables <= {
        "hashed",
        "ranked",
        "proj.taar_tmp.taar_tmp_profile",
        "moz-fx-data-shared-prod.telemetry.clients_last_seen",
        "moz-fx-data-shared-prod.telemetry.deletion_request",
    }


def test_fill_sql_hashes_the_client_id_before_anything_else_reads_it():
    sql = queries.render("fill_profiles", destination_table="d.t", source_table="s.t")
    statement = sqlglot.parse_one(sql, read="bigquery")
    assert isinstance(statement, exp.Create) and statement.args.get("replace")
    cte = statement.find(exp.CTE)
    assert cte.alias == "hashed"
    projection = {e.alias_or_name: e for e in cte.this.expressions}
    assert projection["client_id"].this.sql("bigquery") == "TO_HEX(SHA256(client_id))"
    ranked = [c for c in statement.find_all(exp.CTE) if c.alias == "ranked"][0]
    assert [t.name for t in ranked.this.find(exp.From).find_all(exp.Table)] == ["hashed"]
    outer = statement.expression
    assert [t.name for t in outer.find(exp.From).find_all(exp.Table)] == ["ranked"]


def test_duckdb_transpilation_gives_the_hand_computed_rows(tmp_path):
    rows = [
        client_row(
            "client-a",
            subsession_hours_sum=1.2501,
            active_addons=[
                addon("keep@a", is_system=False),
                addon("off@a", user_disabled=True),
                None,
                addon(None, is_system=True),
            ],
        ),
        client_row(None),
        client_row(
            "client-c",
            **dict.fromkeys(NULLED_FOR_CLIENT_C),
            active_addons=[addon("app-off@c", app_disabled=True, user_disabled=False)],
        ),
        client_row("client-d", active_addons=None),
        client_row("client-e", active_addons=[]),
        client_row("client-f", active_addons=[None]),
        client_row("client-g", day=DAY - dt.timedelta(days=1)),
    ]
    source = write_clients_last_seen(tmp_path, rows)
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", "taar_tmp", "profiles", str(source), str(tmp_path / "none"))
    result = warehouse.fill_profiles(DAY, sample_rate=1.0)
    query = "SELECT * FROM taar_tmp.profiles ORDER BY city DESC"
    got = warehouse._con.execute(query).to_arrow_table().to_pylist()
    warehouse.close()

    assert (result.source_rows, result.null_client_id_rows, result.profiles) == (6, 1, 2)
    assert got == [
        {
            "client_id": hash_client_id("client-a"),
            "city": "Paris",
            "locale": "fr",
            "os": "Linux",
            "subsession_length": 4500,  # round(1.2501 h * 3600) s
            "places_bookmarks_count": 10.0,
            "scalar_parent_browser_engagement_tab_open_event_count": 5,
            "scalar_parent_browser_engagement_total_uri_count": 50,
            "scalar_parent_browser_engagement_unique_domains_count": 7.0,
            "active_addons": [addon("keep@a", is_system=False), addon("off@a", user_disabled=True)],
            "disabled_addons_ids": ["off@a"],
        },
        {
            "client_id": hash_client_id("client-c"),
            "city": "",
            "locale": "fr",
            "os": "Linux",
            "subsession_length": 0,
            "places_bookmarks_count": 0.0,
            "scalar_parent_browser_engagement_tab_open_event_count": 0,
            "scalar_parent_browser_engagement_total_uri_count": 0,
            "scalar_parent_browser_engagement_unique_domains_count": 0.0,
            "active_addons": [addon("app-off@c", app_disabled=True, user_disabled=False)],
            "disabled_addons_ids": ["app-off@c"],
        },
    ]


def test_sampling_keeps_exactly_the_clients_whose_hash_sorts_below_the_threshold(tmp_path):
    ids = [f"client-{i}" for i in range(200)]
    source = write_clients_last_seen(tmp_path, [client_row(i) for i in ids])
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", "taar_tmp", "profiles", str(source), str(tmp_path / "none"))
    warehouse.fill_profiles(DAY, sample_rate=0.25)
    got = {key for (key,) in warehouse._con.execute("SELECT client_id FROM taar_tmp.profiles").fetchall()}
    warehouse.close()
    expected = {hash_client_id(i) for i in ids if int(hash_client_id(i)[:8], 16) < 0.25 * 16**8}
    assert got == expected
    assert 30 < len(expected) < 70


def test_transpiled_sql_is_what_duckdb_runs():
    duck = queries.to_duckdb(queries.render("fill_profiles", destination_table="d.t", source_table="s"))
    assert "$submission_date" in duck and "$sample_threshold" in duck
    assert "SHA256(client_id)" in duck
    duckdb.sql("SELECT 1")  # the pinned engine is importable
