"""The services' naming rules for the ids an operator passes, checked before any SQL or API call.

An id that breaks its service's rule is refused when the options are parsed, so a typo or
an injected `; CREATE TABLE ...` never reaches a query text or an API path. Sources:
- project id: 6 to 30 lowercase ASCII letters, digits or hyphens, starting with a letter,
  not ending with a hyphen (https://cloud.google.com/sdk/gcloud/reference/projects/create,
  "PROJECT_ID");
- BigQuery dataset id: letters, digits, underscores, at most 1,024 characters
  (https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets, DatasetReference.datasetId);
- BigQuery table id: at most 1,024 UTF-8 bytes of Unicode categories L, M, N, Pc, Pd, Zs
  (https://cloud.google.com/bigquery/docs/tables, "Table naming");
- Bigtable instance id: 6 to 33 lowercase letters, digits or hyphens, starting with a
  letter, not ending with a hyphen (googleapis google/bigtable/admin/v2/instance.proto,
  `[a-z][a-z0-9\\-]+[a-z0-9]`; https://cloud.google.com/bigtable/docs/creating-instance);
- Bigtable table id: `[_a-zA-Z0-9][-_.a-zA-Z0-9]*`, at most 50 characters (googleapis
  google/bigtable/admin/v2/table.proto `Table.name`, bigtable_table_admin.proto
  `CreateTableRequest.table_id`).
"""

from __future__ import annotations

import re
import unicodedata

_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_DATASET = re.compile(r"[A-Za-z0-9_]{1,1024}")
_BIGTABLE_INSTANCE = re.compile(r"[a-z][a-z0-9-]{4,31}[a-z0-9]")
_BIGTABLE_TABLE = re.compile(r"[_a-zA-Z0-9][-_.a-zA-Z0-9]{0,49}")
_TABLE_CATEGORIES = ("L", "M", "N", "Pc", "Pd", "Zs")


class InvalidIdentifier(ValueError):
    """An id breaks its service's naming rule; the message names the id kind, the value and the rule."""


def _refuse(kind: str, value: str, rule: str) -> InvalidIdentifier:
    # repr() shows quotes, semicolons and control characters as they are
    return InvalidIdentifier(f"{kind} {value!r} is not valid: {rule}")


def gcp_project_id(value: str) -> str:
    """A Google Cloud project id, or `InvalidIdentifier`."""
    if not _PROJECT.fullmatch(value):
        raise _refuse("project id", value, "6-30 lowercase letters, digits or hyphens, starting with a letter")
    return value


def bigquery_dataset_id(value: str) -> str:
    """A BigQuery dataset id (also the DuckDB schema of the temporary table), or `InvalidIdentifier`."""
    if not _DATASET.fullmatch(value):
        raise _refuse("BigQuery dataset id", value, "1-1024 letters, digits or underscores")
    return value


def bigquery_table_id(value: str) -> str:
    """A BigQuery table id, or `InvalidIdentifier`."""
    valid = 0 < len(value.encode("utf-8")) <= 1024 and all(
        unicodedata.category(ch).startswith(_TABLE_CATEGORIES) for ch in value
    )
    if not valid:
        raise _refuse(
            "BigQuery table id",
            value,
            "1-1024 UTF-8 bytes of letters, marks, numbers, connectors (_), dashes or spaces",
        )
    return value


def bigquery_table_reference(value: str) -> str:
    """`project.dataset.table`, each part checked, or `InvalidIdentifier`."""
    parts = value.split(".")
    if len(parts) != 3:
        raise _refuse("BigQuery table", value, "expected project.dataset.table")
    gcp_project_id(parts[0])
    bigquery_dataset_id(parts[1])
    bigquery_table_id(parts[2])
    return value


def bigtable_instance_id(value: str) -> str:
    """A Bigtable instance id, or `InvalidIdentifier`."""
    if not _BIGTABLE_INSTANCE.fullmatch(value):
        raise _refuse(
            "Bigtable instance id", value, "6-33 lowercase letters, digits or hyphens, starting with a letter"
        )
    return value


def bigtable_table_id(value: str) -> str:
    """A Bigtable table id, or `InvalidIdentifier`."""
    if not _BIGTABLE_TABLE.fullmatch(value):
        raise _refuse("Bigtable table id", value, "1-50 of letters, digits, _ - . (not starting with - or .)")
    return value
