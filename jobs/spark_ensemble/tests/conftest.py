"""Fixtures of the spark_ensemble tests (the shared `spark` session comes from taar_testing)."""

from __future__ import annotations

import pytest
from taar_common.storage import Storage


@pytest.fixture
def storage() -> Storage:
    return Storage()
