"""The run harness: storage options refused when parsed, the publish policy options, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from taar_common.options import output_options
from taar_common.summary import RunSummary


@click.command()
@output_options("telemetry-parquet", "p/")
def work_command(target):
    policy = target.policy
    RunSummary("demo").run(lambda: click.echo(f"WORK {policy.max_shrink} {policy.allow_shrink} {policy.lease_ttl}"))


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--bucket", "ftp://host/x"], "ftp://host/x"),
        (["--bucket", "gs://"], "gs://"),
        (["--bucket", "file://etc/x"], "file://etc/x"),
        (["--bucket", "gs://Bad_Bucket!"], "Bad_Bucket!"),
        (["--bucket", "s3://bucket/a/../b"], "s3://bucket/a/../b"),
        (["--gcs-bucket", "UPPER"], "gs://UPPER"),
        (["--prefix", "../../escaped/"], "../../escaped/"),
        (["--prefix", "/abs"], "/abs"),
        (["--prefix", "a//b"], "a//b"),
    ],
)
def test_bad_storage_options_fail_when_parsed_naming_the_url(args, named):
    result = CliRunner().invoke(work_command, args)
    assert result.exit_code == 2
    assert "WORK" not in result.output  # refused before any work
    assert named in result.output


def test_credentials_in_a_refused_bucket_url_are_masked():
    result = CliRunner().invoke(work_command, ["--bucket", "ftp://user:hunter2pass@host/x"])
    assert result.exit_code == 2
    assert "hunter2pass" not in result.output and "host/x" in result.output


def test_publish_policy_options_reach_the_job_in_its_target():
    default = CliRunner().invoke(work_command, [])
    assert default.exit_code == 0, default.output
    assert "WORK 0.2 False 6:00:00" in default.output
    given = CliRunner().invoke(work_command, ["--max-shrink", "0.5", "--allow-shrink", "--lease-ttl-hours", "1"])
    assert "WORK 0.5 True 1:00:00" in given.output


KILLED_PUBLISH = """
import os, sys, time
from taar_common.logs import configure_logging
from taar_common.summary import RunSummary
from taar_common.publish import PublishTarget, publish_all
from taar_common.storage import Storage
import datetime as dt

real_replace = os.replace
def slow_replace(src, dst):  # the temp file is complete: stall before it takes the target's name
    print("STALLED", file=sys.stderr, flush=True)
    time.sleep(60)
    real_replace(src, dst)
os.replace = slow_replace

configure_logging()
target = PublishTarget(sys.argv[1], "p/", dt.date(2026, 11, 27))
summary = RunSummary("killed")
summary.run(lambda: publish_all(Storage(), target, {"guid_install_ranking.json": {"a@x": 1}}, summary))
"""


def test_sigterm_mid_publish_cleans_up_prints_the_summary_and_exits_143(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUBLISH, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    assert process.stderr is not None
    line = ""
    while "STALLED" not in line and time.monotonic() < deadline:
        line = process.stderr.readline()
    assert "STALLED" in line, "the publish never reached its write"
    assert [p.name for p in (tmp_path / "p").iterdir() if p.name.endswith(".tmp")], "no temp file mid-publish"
    assert (tmp_path / "p" / ".lease-killed.json").exists()
    os.kill(process.pid, signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 143, stderr
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["status"] == "failed" and "SIGTERM" in summary["error"]
    assert sorted(p.name for p in Path(tmp_path).rglob("*")) == ["p"]  # no temp file, no lease, no artifact


PY4J_LIKE = (
    "An error occurred while calling o78.collectToPython.\n"
    ": org.apache.spark.SparkException: Job aborted due to stage failure: boom\n"
    "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2856)\n"
    "\tat org.apache.spark.scheduler.DAGScheduler.$anonfun$abortStage$2(DAGScheduler.scala:2792)\n"
)


@click.command()
def failing_command():
    RunSummary("demo").run(lambda: (_ for _ in ()).throw(RuntimeError(PY4J_LIKE)))


def test_a_jvm_stack_stays_out_of_the_summary_and_the_error_line():
    result = CliRunner().invoke(failing_command, [])
    assert result.exit_code == 1
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["error"] == (
        "RuntimeError: An error occurred while calling o78.collectToPython. "
        ": org.apache.spark.SparkException: Job aborted due to stage failure: boom"
    )
    assert "DAGScheduler.scala" not in result.stdout
