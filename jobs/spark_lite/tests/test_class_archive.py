"""Local Spark sessions and the JVM class archive (`taar_common.spark`): made at exit, then mapped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from taar_common import spark as taar_spark

WARNINGS_TO_STDERR = ["-Xlog:disable", "-Xlog:all=warning:stderr"]
SESSION = """
import json, sys
from taar_common.spark import spark_session
spark = spark_session("archive-test", "local[1]", local_config=json.loads(sys.argv[1]))
print(spark.range(5).count(), spark.conf.get("spark.python.sql.dataFrameDebugging.enabled"))
"""


def run_session(tmp_path: Path, env: dict[str, str], java_options: str = "") -> subprocess.CompletedProcess:
    config = {"spark.driver.extraJavaOptions": java_options} if java_options else {}
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in (taar_spark.CLASS_ARCHIVE_ENV, taar_spark.ARCHIVE_CLASSES_AT_EXIT_ENV)
    }
    return subprocess.run(
        [sys.executable, "-c", SESSION, json.dumps(config)],
        env={**clean, "SPARK_LOCAL_IP": "127.0.0.1", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_java_options_follow_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    archive = tmp_path / "default.jsa"
    monkeypatch.setattr(taar_spark, "default_class_archive", lambda: archive)
    monkeypatch.delenv(taar_spark.CLASS_ARCHIVE_ENV, raising=False)
    monkeypatch.delenv(taar_spark.ARCHIVE_CLASSES_AT_EXIT_ENV, raising=False)
    assert taar_spark.class_sharing_java_options() == []  # no archive made yet
    archive.write_bytes(b"made")
    assert taar_spark.class_sharing_java_options() == [f"-XX:SharedArchiveFile={archive}", *WARNINGS_TO_STDERR]
    monkeypatch.setenv(taar_spark.CLASS_ARCHIVE_ENV, "off")
    assert taar_spark.class_sharing_java_options() == []
    monkeypatch.setenv(taar_spark.CLASS_ARCHIVE_ENV, "/elsewhere/classes.jsa")
    elsewhere = "-XX:SharedArchiveFile=/elsewhere/classes.jsa"
    assert taar_spark.class_sharing_java_options() == [elsewhere, *WARNINGS_TO_STDERR]
    monkeypatch.setenv(taar_spark.ARCHIVE_CLASSES_AT_EXIT_ENV, str(tmp_path / "new.jsa"))
    dump = f"-XX:ArchiveClassesAtExit={tmp_path / 'new.jsa'}"
    assert taar_spark.class_sharing_java_options() == [dump, *WARNINGS_TO_STDERR]


def test_a_session_writes_an_archive_that_the_next_session_maps(tmp_path: Path) -> None:
    archive = tmp_path / "classes.jsa"
    made = run_session(tmp_path, {taar_spark.ARCHIVE_CLASSES_AT_EXIT_ENV: str(archive)})
    assert made.returncode == 0, made.stderr[-3000:]
    assert made.stdout.split() == ["5", "false"]  # the job ran, DataFrame debugging is off, JVM warnings not here
    assert archive.stat().st_size > 1 << 20, "the JVM wrote no class archive at exit"

    # -Xshare:on turns an archive the JVM cannot map into a start-up error instead of a warning
    mapped = run_session(tmp_path, {taar_spark.CLASS_ARCHIVE_ENV: str(archive)}, "-Xshare:on")
    assert mapped.returncode == 0, mapped.stderr[-3000:]
    assert mapped.stdout.split() == ["5", "false"]

    garbage = tmp_path / "garbage.jsa"
    garbage.write_bytes(b"not an archive" * 1000)
    refused = run_session(tmp_path, {taar_spark.CLASS_ARCHIVE_ENV: str(garbage)}, "-Xshare:on")
    assert refused.returncode != 0 and "shared archive" in refused.stderr.lower(), refused.stderr[-2000:]
