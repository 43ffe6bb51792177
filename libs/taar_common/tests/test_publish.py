"""The publish protocol: checked first, dated then latest, old latest kept on any failure."""

from __future__ import annotations

import datetime as dt

import pytest
from taar_common.artifacts import ArtifactCheckError
from taar_common.publish import publish_artifact
from taar_common.storage import Storage, StorageError, join_url

DAY = dt.date(2026, 11, 27)
GOOD = {"a@x": {"b@x": 2}, "b@x": {"a@x": 2}}


class FailingSecondWrite(Storage):
    """Real storage whose N-th write raises, as a network drop between two uploads would."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.writes = 0
        self.fail_on = fail_on

    def write_bytes(self, url: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.writes += 1
        if self.writes == self.fail_on:
            raise StorageError(f"write {url} failed: injected")
        super().write_bytes(url, data, content_type)


def test_publish_writes_dated_then_latest(storage_root):
    storage = Storage()
    published = publish_artifact(
        storage, "guid_coinstallation.json", GOOD, bucket_url=storage_root, prefix="taar/lite/", day=DAY
    )
    assert published.dated_url == join_url(storage_root, "taar/lite/guid_coinstallation20261127.json")
    assert published.latest_url == join_url(storage_root, "taar/lite/guid_coinstallation.json")
    assert storage.read_json(published.latest_url) == GOOD
    assert storage.read_bytes(published.dated_url) == storage.read_bytes(published.latest_url)
    assert published.records == 2


def test_publish_bz2_names_and_content(storage_root):
    storage = Storage()
    published = publish_artifact(
        storage, "guid_coinstallation", GOOD, bucket_url=storage_root, prefix="p", day=DAY, compress="bz2"
    )
    assert published.latest_url.endswith("p/guid_coinstallation.json.bz2")
    assert published.dated_url.endswith("p/guid_coinstallation20261127.json.bz2")
    assert storage.read_artifact(join_url(storage_root, "p/guid_coinstallation.json")) == GOOD


def test_failure_between_writes_keeps_previous_latest(storage_root):
    publish_artifact(Storage(), "guid_coinstallation", GOOD, bucket_url=storage_root, prefix="p", day=DAY)
    latest = join_url(storage_root, "p/guid_coinstallation.json")
    before = Storage().read_bytes(latest)
    newer = {"c@x": {"d@x": 1}, "d@x": {"c@x": 1}}
    with pytest.raises(StorageError, match="injected"):
        publish_artifact(
            FailingSecondWrite(fail_on=2),
            "guid_coinstallation",
            newer,
            bucket_url=storage_root,
            prefix="p",
            day=DAY + dt.timedelta(days=1),
        )
    assert Storage().read_bytes(latest) == before


def test_failed_check_writes_nothing(tmp_path):
    storage = Storage()
    asymmetric = {"a@x": {"b@x": 2}, "b@x": {"a@x": 3}}
    with pytest.raises(ArtifactCheckError, match="symmetric_no_self_pairs"):
        publish_artifact(storage, "guid_coinstallation", asymmetric, bucket_url=str(tmp_path), prefix="p", day=DAY)
    assert storage.list_prefix(str(tmp_path)) == []
