"""The publish protocol: checked first, dated then latest, old latest kept on any failure."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from taar_common.artifacts import ArtifactCheckError
from taar_common.lease import Lease, LeaseHeldError, lease_url
from taar_common.publish import (
    OutputTarget,
    PublishGuardError,
    PublishPolicy,
    PublishTarget,
    publish_all,
)
from taar_common.storage import Storage, StorageError, join_url
from taar_common.summary import RunSummary

DAY = dt.date(2026, 11, 27)
GOOD = {"a@x": {"b@x": 2}, "b@x": {"a@x": 2}}


def _target(root: str, day: dt.date = DAY, policy: PublishPolicy = PublishPolicy()) -> PublishTarget:
    return PublishTarget(root, "p/", day, policy=policy)


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
    [published] = publish_all(
        storage, PublishTarget(storage_root, "taar/lite/", DAY), {"guid_coinstallation.json": GOOD}, RunSummary("t")
    )
    assert published.dated_url == join_url(storage_root, "taar/lite/guid_coinstallation20261127.json")
    assert published.latest_url == join_url(storage_root, "taar/lite/guid_coinstallation.json")
    assert storage.read_json(published.latest_url) == GOOD
    assert storage.read_bytes(published.dated_url) == storage.read_bytes(published.latest_url)
    assert published.records == 2


def test_publish_bz2_names_and_content(storage_root):
    storage = Storage()
    [published] = publish_all(
        storage, PublishTarget(storage_root, "p", DAY, "bz2"), {"guid_coinstallation": GOOD}, RunSummary("t")
    )
    assert published.latest_url.endswith("p/guid_coinstallation.json.bz2")
    assert published.dated_url.endswith("p/guid_coinstallation20261127.json.bz2")
    assert storage.read_artifact(join_url(storage_root, "p/guid_coinstallation.json")) == GOOD


def test_failure_between_writes_keeps_previous_latest(storage_root):
    publish_all(Storage(), _target(storage_root), {"guid_coinstallation": GOOD}, RunSummary("t"))
    latest = join_url(storage_root, "p/guid_coinstallation.json")
    before = Storage().read_bytes(latest)
    newer = {"c@x": {"d@x": 1}, "d@x": {"c@x": 1}}
    with pytest.raises(StorageError, match="injected"):
        publish_all(
            FailingSecondWrite(fail_on=2),
            _target(storage_root, DAY + dt.timedelta(days=1)),
            {"guid_coinstallation": newer},
            RunSummary("t"),
        )
    assert Storage().read_bytes(latest) == before


def test_failed_check_writes_nothing(tmp_path):
    storage = Storage()
    asymmetric = {"a@x": {"b@x": 2}, "b@x": {"a@x": 3}}
    with pytest.raises(ArtifactCheckError, match="symmetric_no_self_pairs"):
        publish_all(storage, _target(str(tmp_path)), {"guid_coinstallation": asymmetric}, RunSummary("t"))
    assert storage.list_prefix(str(tmp_path)) == []


RANKING = "guid_install_ranking.json"


def _ranking(n: int) -> dict[str, int]:
    return {f"addon{i}@x": n - i for i in range(n)}


def test_publish_all_writes_the_set_and_releases_the_lease(storage_root):
    storage = Storage()
    summary = RunSummary("demo")
    published = publish_all(
        storage, _target(storage_root), {RANKING: _ranking(5), "guid_coinstallation.json": GOOD}, summary
    )
    assert [p.name for p in published] == [RANKING, "guid_coinstallation.json"]
    assert storage.read_json(join_url(storage_root, "p/guid_install_ranking.json")) == _ranking(5)
    assert summary.artifacts[0].endswith("guid_install_ranking20261127.json")
    assert not storage.exists(lease_url(storage_root, "p/", "t"))


def test_a_held_lease_refuses_a_second_run_naming_the_holder(storage_root):
    storage = Storage()
    with Lease(storage, lease_url(storage_root, "p/", "t"), "t") as held:
        with pytest.raises(LeaseHeldError, match=f"run_id={held.run_id}") as raised:
            publish_all(storage, _target(storage_root), {RANKING: _ranking(3)}, RunSummary("t"))
        assert f"pid={os.getpid()}" in str(raised.value)
    assert not storage.exists(join_url(storage_root, "p/guid_install_ranking.json"))
    publish_all(storage, _target(storage_root), {RANKING: _ranking(3)}, RunSummary("t"))  # released: the next run goes


def test_an_expired_lease_is_taken_over(storage_root):
    storage = Storage()
    url = lease_url(storage_root, "p/", "t")
    storage.write_bytes(
        url, json.dumps({"host": "gone", "pid": 1, "run_id": "dead", "expires": "2001-01-01T00:00:00+00:00"}).encode()
    )
    publish_all(storage, _target(storage_root), {RANKING: _ranking(3)}, RunSummary("t"))
    assert not storage.exists(url)


def test_the_lease_is_released_when_the_publish_fails(storage_root):
    storage = Storage()
    with pytest.raises(ArtifactCheckError):
        publish_all(
            storage,
            _target(storage_root),
            {RANKING: _ranking(3), "guid_coinstallation.json": {"a@x": {"a@x": 1}}},
            RunSummary("t"),
        )
    assert not storage.exists(lease_url(storage_root, "p/", "t"))
    assert storage.list_prefix(join_url(storage_root, "p") + "/") == []  # every payload checked before any write


def test_the_shrink_guard_names_both_counts_and_keeps_the_latest(storage_root):
    storage = Storage()
    publish_all(storage, _target(storage_root), {RANKING: _ranking(10)}, RunSummary("t"))
    latest = join_url(storage_root, "p/guid_install_ranking.json")
    next_day = _target(storage_root, DAY + dt.timedelta(days=1))
    with pytest.raises(PublishGuardError, match="has 7 records.*has 10"):
        publish_all(storage, next_day, {RANKING: _ranking(7)}, RunSummary("t"))
    assert storage.read_json(latest) == _ranking(10)
    assert not storage.exists(join_url(storage_root, "p/guid_install_ranking20261128.json"))
    publish_all(storage, next_day, {RANKING: _ranking(8)}, RunSummary("t"))  # a 20% fall is allowed
    allowed = _target(storage_root, next_day.day, PublishPolicy(allow_shrink=True))
    publish_all(storage, allowed, {RANKING: _ranking(1)}, RunSummary("t"))
    assert storage.read_json(latest) == _ranking(1)


def _addon(guid: str) -> dict:
    keys = ("categories", "default_locale", "description", "name", "summary", "tags", "ratings", "promoted")
    record = dict.fromkeys(keys, None) | {"guid": guid, "weekly_downloads": 1, "average_daily_users": 1}
    return record | {"current_version": None, "is_featured": True, "created": "x", "first_create_date": "x"}


def test_an_empty_artifact_never_replaces_a_non_empty_one(storage_root):
    storage = Storage()
    featured = "featured_addons_database.json"
    publish_all(storage, _target(storage_root), {featured: {"a@x": _addon("a@x")}}, RunSummary("t"))
    any_fall = _target(storage_root, policy=PublishPolicy(max_shrink=1.0))
    with pytest.raises(PublishGuardError, match="has 0 records.*has 1"):
        publish_all(storage, any_fall, {featured: {}}, RunSummary("t"))
    assert storage.read_json(join_url(storage_root, "p/featured_addons_database.json")) == {"a@x": _addon("a@x")}


def test_a_run_holding_its_lease_from_the_start_refuses_a_second_run_before_any_work(storage_root, capsys):
    storage = Storage()
    worked = []

    def job():
        worked.append(True)
        assert storage.exists(lease_url(storage_root, "p/", "t"))  # held while the job computes
        publish_all(storage, _target(storage_root), {RANKING: _ranking(3)}, RunSummary("t"))  # reuses the run's lease

    RunSummary("t").run(job, lease_on=OutputTarget(storage_root, "p/"))
    assert worked == [True] and not storage.exists(lease_url(storage_root, "p/", "t"))
    with Lease(storage, lease_url(storage_root, "p/", "t"), "t") as held:
        with pytest.raises(SystemExit) as exited:
            RunSummary("t").run(lambda: worked.append(False), lease_on=OutputTarget(storage_root, "p/"))
    assert exited.value.code == 1 and worked == [True]  # the second run never started its work
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["status"] == "failed" and f"run_id={held.run_id}" in summary["error"]
