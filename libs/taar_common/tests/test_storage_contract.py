"""One contract, three real backends: local files, moto S3 server, fake-gcs-server."""

from __future__ import annotations

import bz2
import datetime as dt
import json
import os
import re
import stat
import time

import pytest
from taar_common.publish import PublishTarget, artifact_urls, publish_all
from taar_common.storage import (
    InvalidKeyError,
    NotFoundError,
    Storage,
    StorageError,
    join_url,
    parse_url,
    resolve_bucket_url,
)
from taar_common.summary import RunSummary


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


@pytest.mark.parametrize("prefix", ["../../escaped/", "a/../../b", "/abs/prefix", "a//b", "./a"])
def test_escaping_or_malformed_prefixes_are_refused_on_every_backend(storage, storage_root, prefix):
    with pytest.raises(InvalidKeyError, match="prefix"):
        artifact_urls(storage_root, prefix, "x.json", dt.date(2026, 11, 27), None)
    if not prefix.startswith("/"):  # join_url keeps stripping outer slashes; artifact_urls refuses them
        with pytest.raises(InvalidKeyError):
            join_url(storage_root, prefix, "x.json")
    with pytest.raises(InvalidKeyError):
        target = PublishTarget(storage_root, prefix, dt.date(2026, 11, 27))
        publish_all(storage, target, {"guid_install_ranking.json": {"a@x": 1}}, RunSummary("t"))


@pytest.mark.parametrize("name", ["../x.json", "a//x.json", "/x.json"])
def test_escaping_artifact_names_are_refused(storage_root, name):
    with pytest.raises(InvalidKeyError, match="name"):
        artifact_urls(storage_root, "p/", name, dt.date(2026, 11, 27), None)


@pytest.mark.parametrize("url", ["gs://bucket/a/../b", "s3://bucket//b", "s3://bucket/a/./b"])
def test_object_urls_with_escaping_keys_are_refused(url):
    with pytest.raises(InvalidKeyError, match=re.escape(url)):
        parse_url(url)


def test_file_url_with_a_host_is_refused_naming_it():
    with pytest.raises(ValueError, match=re.escape("file://etc/x")):
        parse_url("file://etc/x")
    with pytest.raises(ValueError, match=re.escape("file://etc/x")):
        resolve_bucket_url("file://etc/x", "b")
    assert resolve_bucket_url("file:///abs/out", "b") == "/abs/out"


def test_local_artifacts_honour_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        Storage().write_json(str(tmp_path / "a.json"), [1])
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
        os.umask(0o027)
        Storage().write_json(str(tmp_path / "b.json"), [1])
        assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_missing_bucket_is_one_line_naming_it(storage_root):
    if not storage_root.startswith(("s3://", "gs://")):
        pytest.skip("a local root has no bucket to be missing")
    missing = storage_root[:5] + "taar-no-such-bucket-4242"
    with pytest.raises(StorageError) as raised:
        Storage().write_bytes(join_url(missing, "p/x.json"), b"{}")
    message = str(raised.value)
    assert "\n" not in message
    assert f"bucket {missing} does not exist" in message


def test_create_bytes_writes_only_once(storage, storage_root):
    url = join_url(storage_root, "p/.lease-x.json")
    assert storage.create_bytes(url, b"first") is True
    assert storage.create_bytes(url, b"second") is False
    assert storage.read_bytes(url) == b"first"


def test_stale_temp_files_of_a_killed_run_are_removed_by_the_next_publish(tmp_path):
    target = tmp_path / "p" / "donors.json"
    target.parent.mkdir()
    stale = target.parent / ".donors.json.ab12cd_9.tmp"
    fresh = target.parent / ".donors.json.zz99yy00.tmp"
    foreign = target.parent / ".donors.json.keep-me.tmp"
    for path in (stale, fresh, foreign):
        path.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(foreign, (old, old))
    Storage().write_json(str(target), [1])
    assert not stale.exists()
    assert fresh.exists()  # may belong to a run still writing
    assert foreign.exists()  # not our naming
