"""cbtemulator serves the official google-cloud-bigtable admin and data clients."""

from __future__ import annotations

import os

import pytest
from google.cloud import bigtable
from google.cloud.bigtable import column_family, row_filters


@pytest.mark.filterwarnings("ignore:Connecting to Bigtable emulator")
def test_bigtable_emulator_creates_table_writes_and_reads_a_row(bigtable_emulator):
    assert os.environ["BIGTABLE_EMULATOR_HOST"] == bigtable_emulator.host
    client = bigtable.Client(project=bigtable_emulator.project, admin=True)
    instance = client.instance(bigtable_emulator.instance)
    table = instance.table("taar_profile_smoke")
    table.create(column_families={"profile": column_family.MaxVersionsGCRule(1)})
    try:
        row = table.direct_row(b"abc123")
        row.set_cell("profile", b"payload", b"\x78\x9c-compressed")
        statuses = table.mutate_rows([row])
        assert [status.code for status in statuses] == [0]
        read = table.read_row(b"abc123", filter_=row_filters.CellsColumnLimitFilter(1))
        assert read is not None
        assert read.cells["profile"][b"payload"][0].value == b"\x78\x9c-compressed"
        assert table.read_row(b"missing") is None
    finally:
        table.delete()
