"""The job's SQL texts (BigQuery dialect, under `sql/`) and their DuckDB transpilation."""

from __future__ import annotations

import math
from importlib import resources

import sqlglot

HEX_DIGITS = 8
# Sorts after every 8-digit lower-case hex prefix: a sample rate of 1 keeps every client.
KEEP_ALL_THRESHOLD = "g"


def sql_text(name: str) -> str:
    """The raw text of `sql/<name>.sql` as shipped in the package."""
    return resources.files("taar_profile_bigtable").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def quote_table(table: str) -> str:
    """`table` (`[project.]dataset.table` or a view name) as one back-quoted BigQuery identifier.

    The ids were checked against the services' naming rules when the options were parsed;
    this refuses anything that could still close the quotes (defence in depth).
    """
    if not table or any(ch in table for ch in "`\\") or not table.isprintable():
        raise ValueError(f"table name {table!r} cannot be quoted safely")
    return f"`{table}`"


def render(name: str, **tables: str) -> str:
    """The BigQuery SQL of `name` with its table placeholders filled in, each quoted."""
    text = sql_text(name)
    for placeholder, table in tables.items():
        text = text.replace("{" + placeholder + "}", quote_table(table))
    if "{" in text.replace("{}", ""):
        raise ValueError(f"sql/{name}.sql has unfilled placeholders; given {sorted(tables)}")
    return text


def to_duckdb(bigquery_sql: str) -> str:
    """Transpile one BigQuery statement to DuckDB (`@param` becomes `$param`)."""
    statements = sqlglot.transpile(bigquery_sql, read="bigquery", write="duckdb", pretty=True)
    if len(statements) != 1:
        raise ValueError(f"expected one SQL statement, found {len(statements)}")
    return statements[0]


def sample_threshold(sample_rate: float) -> str:
    """Hex prefix bound: a client is sampled when its hashed id's first 8 digits sort below it."""
    if not 0.0 <= sample_rate <= 1.0:
        raise ValueError(f"--sample-rate must be in [0, 1], got {sample_rate}")
    if sample_rate >= 1.0:
        return KEEP_ALL_THRESHOLD
    return format(math.ceil(sample_rate * 16**HEX_DIGITS), f"0{HEX_DIGITS}x")
