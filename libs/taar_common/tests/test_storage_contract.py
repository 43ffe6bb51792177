"""One contract, three real backends: local files, moto S3 server, fake-gcs-server."""

from __future__ import annotations

import bz2
import json

import pytest
from taar_common.storage import NotFoundError, Storage, StorageError, join_url


@pytest.fixture
def storage() -> Storage:
    return Storage()


def test_bytes_round_trip(storage, storage_root):
    url = join_url(storage_root, "a/b/blob.bin")
    storage.write_bytes(url, b"\x00\x01payload")
    assert storage.read_bytes(url) == b"\x00\x01payload"
    assert storage.exists(url)


def test_overwrite_replaces_whole_object(storage, storage_root):
    url = join_url(storage_root, "x.json")
    storage.write_json(url, {"long": "x" * 1000})
    storage.write_json(url, {"short": 1})
    assert storage.read_json(url) == {"short": 1}


def test_json_round_trip_is_deterministic(storage, storage_root):
    url = join_url(storage_root, "doc.json")
    size = storage.write_json(url, {"b": [1, 2], "a": {"z": None}})
    assert storage.read_bytes(url) == b'{"a":{"z":null},"b":[1,2]}'
    assert size == len(b'{"a":{"z":null},"b":[1,2]}')


def test_bz2_is_transparent(storage, storage_root):
    url = join_url(storage_root, "doc.json.bz2")
    storage.write_json(url, {"guid": "a@b"})
    assert json.loads(bz2.decompress(storage.read_bytes(url))) == {"guid": "a@b"}
    assert storage.read_json(url) == {"guid": "a@b"}


def test_read_artifact_accepts_either_form(storage, storage_root):
    storage.write_json(join_url(storage_root, "only_bz2.json.bz2"), [1])
    storage.write_json(join_url(storage_root, "only_plain.json"), [2])
    assert storage.read_artifact(join_url(storage_root, "only_bz2.json")) == [1]
    assert storage.read_artifact(join_url(storage_root, "only_plain.json.bz2")) == [2]
    with pytest.raises(NotFoundError, match="neither|nor"):
        storage.read_artifact(join_url(storage_root, "absent.json"))


def test_missing_object_is_not_found_naming_url(storage, storage_root):
    url = join_url(storage_root, "nope/missing.json")
    assert not storage.exists(url)
    with pytest.raises(NotFoundError, match="missing.json"):
        storage.read_bytes(url)


def test_invalid_json_names_the_url(storage, storage_root):
    url = join_url(storage_root, "broken.json")
    storage.write_bytes(url, b'{"truncated": ')
    with pytest.raises(StorageError, match="broken.json is not valid JSON"):
        storage.read_json(url)


def test_list_prefix_and_delete(storage, storage_root):
    for key in ["p/day=1/a.parquet", "p/day=1/b.parquet", "p/day=2/c.parquet", "q/d"]:
        storage.write_bytes(join_url(storage_root, key), b"x")
    listed = storage.list_prefix(join_url(storage_root, "p/day=1") + "/")
    assert [u.rsplit("/", 1)[1] for u in listed] == ["a.parquet", "b.parquet"]
    assert len(storage.list_prefix(join_url(storage_root, "p") + "/")) == 3
    storage.delete(listed[0])
    assert not storage.exists(listed[0])
    storage.delete(listed[0])  # deleting a missing object is not an error
    assert len(storage.list_prefix(join_url(storage_root, "p") + "/")) == 2
