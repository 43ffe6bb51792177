"""bqemulator starts offline and serves the client path profile_bigtable uses."""

from __future__ import annotations

import fastavro
from google.api_core.exceptions import NotFound
from google.api_core.retry import Retry
from google.cloud import bigquery

CTAS = """
CREATE OR REPLACE TABLE `{table}` AS
SELECT client_id, city, ARRAY<STRUCT<addon_id STRING, is_system BOOL>>[
  STRUCT('a@x' AS addon_id, FALSE AS is_system), STRUCT('b@x' AS addon_id, TRUE AS is_system)
] AS active_addons
FROM UNNEST([STRUCT('c1' AS client_id, 'Berlin' AS city), STRUCT('c2' AS client_id, 'Paris' AS city)])
"""


def test_bigquery_emulator_ctas_extract_to_avro_and_delete(bigquery_emulator):
    client = bigquery_emulator.client()
    dataset = f"{bigquery_emulator.project}.taar_tmp"
    client.create_dataset(dataset, exists_ok=True)
    table_id = f"{dataset}.profile_smoke"
    client.query(CTAS.format(table=table_id)).result()

    table = client.get_table(table_id)
    addons = next(field for field in table.schema if field.name == "active_addons")
    assert (addons.field_type, addons.mode) in {("RECORD", "REPEATED"), ("STRUCT", "REPEATED")}
    assert table.num_rows == 2

    out_dir = bigquery_emulator.bucket_dir("taar-avro") / "export"
    out_dir.mkdir()
    job_config = bigquery.ExtractJobConfig(destination_format=bigquery.DestinationFormat.AVRO)
    client.extract_table(
        table_id, "gs://taar-avro/export/part.avro", job_config=job_config, retry=Retry(timeout=20)
    ).result(timeout=60)
    with open(out_dir / "part.avro", "rb") as handle:
        rows = sorted(fastavro.reader(handle), key=lambda row: row["client_id"])
    assert [row["city"] for row in rows] == ["Berlin", "Paris"]
    assert [a["addon_id"] for a in rows[0]["active_addons"]] == ["a@x", "b@x"]

    client.delete_table(table_id)
    try:
        client.get_table(table_id)
        raise AssertionError(f"{table_id} still exists after delete_table")
    except NotFound:
        pass
