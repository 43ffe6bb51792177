"""pytest entry point of taar-testing: real service processes and one shared Spark session.

Servers are session-scoped and started only when a test asks for them; buckets are fresh per
test. The fixtures import client libraries inside their bodies, because each package's venv
declares only the clients it uses.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest

from taar_testing.services import (
    BigQueryEmulator,
    BigtableEmulator,
    FakeGcsServer,
    MotoServer,
    ServiceNotInstalled,
    ServiceProcess,
    ServiceStartError,
    announce,
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers the job suites use (`-m "not cluster"` skips the multi-JVM tests)."""
    config.addinivalue_line(
        "markers", "cluster: starts a Spark local-cluster (separate executor JVMs); deselect for a quick run"
    )


def _bucket_name() -> str:
    return f"taar-test-{uuid.uuid4().hex[:12]}"


def _start_required(service: ServiceProcess) -> None:
    """Start a service every suite may rely on: a missing program fails, never skips."""
    try:
        service.start()
        return
    except ServiceNotInstalled as error:
        reason = f"{service.name}: {error}"
    pytest.fail(reason, pytrace=False)


def in_ci() -> bool:
    """True on a CI runner (GitHub Actions and most others set `CI=true`)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def service_unavailable(reason: str) -> NoReturn:
    """Skip loudly on a workstation; fail in CI, where every service is installed and a skip would hide a break."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a service that cannot start fails the suite)", pytrace=False)
    pytest.skip(reason)


def _start_optional(service: ServiceProcess) -> None:
    """Start an emulator that may be absent here: skip loudly naming the reason (fail in CI)."""
    try:
        service.start()
        return
    except (ServiceNotInstalled, ServiceStartError) as error:
        reason = f"{service.name} unavailable: {error}"
    service_unavailable(reason)


def _serving(service: ServiceProcess) -> Iterator[Any]:
    """Yield a started service with its client settings in os.environ; stop it and restore after."""
    with pytest.MonkeyPatch.context() as env:
        for key, value in service.client_env().items():
            env.setenv(key, value)
        try:
            yield service
        finally:
            service.stop()


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto S3 server; the session's env points boto3 and CLIs at it (`.endpoint_url`)."""
    server = MotoServer(log_dir=tmp_path_factory.mktemp("moto"))
    _start_required(server)
    yield from _serving(server)


@pytest.fixture
def s3_bucket_url(moto_s3: MotoServer) -> str:
    """A fresh, empty S3 bucket on the moto server, as `s3://<name>`."""
    import boto3

    name = _bucket_name()
    boto3.client("s3", endpoint_url=moto_s3.endpoint_url, region_name="us-east-1").create_bucket(Bucket=name)
    return f"s3://{name}"


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGcsServer]:
    """fake-gcs-server; the session's env sets `STORAGE_EMULATOR_HOST` to its `.url`."""
    server = FakeGcsServer(log_dir=tmp_path_factory.mktemp("fake-gcs"))
    _start_required(server)
    yield from _serving(server)


@pytest.fixture
def gcs_bucket_url(fake_gcs: FakeGcsServer) -> str:
    """A fresh, empty GCS bucket on fake-gcs-server, as `gs://<name>`."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    name = _bucket_name()
    client = storage.Client(project="taar-local", credentials=AnonymousCredentials())
    client.create_bucket(name)
    return f"gs://{name}"


@pytest.fixture(params=["local", "s3", "gcs"])
def storage_root(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh root URL on each backend (tmp dir, `s3://bucket`, `gs://bucket`); servers start lazily."""
    if request.param == "s3":
        return str(request.getfixturevalue("s3_bucket_url"))
    if request.param == "gcs":
        return str(request.getfixturevalue("gcs_bucket_url"))
    return str(tmp_path_factory.mktemp("storage-root"))


@pytest.fixture(scope="session")
def bigtable_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigtableEmulator]:
    """cbtemulator (`.host`, `.project`, `.instance`); sets `BIGTABLE_EMULATOR_HOST`."""
    emulator = BigtableEmulator(log_dir=tmp_path_factory.mktemp("bigtable"))
    _start_optional(emulator)
    yield from _serving(emulator)


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigQueryEmulator]:
    """bqemulator (`.url`, `.project`, `.gcs_local_root`, `.client()`), started offline."""
    root = tmp_path_factory.mktemp("bigquery")
    emulator = BigQueryEmulator(log_dir=root, gcs_local_root=root / "gcs")
    _start_optional(emulator)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One `local[2]` SparkSession for the whole run, sized for a small shared machine."""
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        service_unavailable(
            "Java not found: install a JDK 17 (apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    if importlib.util.find_spec("pyspark") is None:
        pytest.fail(f"pyspark is not installed in {sys.prefix}: declare it in this package's pyproject", pytrace=False)
    from pyspark.sql import SparkSession

    scratch = tmp_path_factory.mktemp("spark")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PYSPARK_PYTHON", sys.executable)
        env.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
        env.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        session = (
            SparkSession.builder.master("local[2]")
            .appName("taar-tests")
            .config("spark.driver.memory", "1g")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.default.parallelism", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("WARN")
        announce(f"started spark {session.version} master=local[2]")
        try:
            yield session
        finally:
            session.stop()
            announce("stopped spark")
