"""moto S3 and fake-gcs-server answer the official clients, the fixtures wire env vars, and
every server stops cleanly; a missing program fails or skips naming the install step."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from taar_testing.plugin import service_unavailable
from taar_testing.services import (
    BigQueryEmulator,
    BigtableEmulator,
    FakeGcsServer,
    MotoServer,
    ServiceNotInstalled,
    port_is_open,
)


def test_moto_s3_round_trips_an_object_through_boto3_from_env(moto_s3, s3_bucket_url):
    assert os.environ["AWS_ENDPOINT_URL_S3"] == moto_s3.endpoint_url
    bucket = s3_bucket_url.removeprefix("s3://")
    client = boto3.client("s3")  # endpoint, keys and region all come from the session env
    client.put_object(Bucket=bucket, Key="a/b.json", Body=b'{"x": 1}')
    assert client.get_object(Bucket=bucket, Key="a/b.json")["Body"].read() == b'{"x": 1}'


def test_s3_bucket_url_is_fresh_per_test(s3_bucket_url):
    client = boto3.client("s3")
    assert client.list_objects_v2(Bucket=s3_bucket_url.removeprefix("s3://"))["KeyCount"] == 0


def test_fake_gcs_round_trips_a_blob_through_google_cloud_storage(fake_gcs, gcs_bucket_url):
    assert os.environ["STORAGE_EMULATOR_HOST"] == fake_gcs.url
    client = storage.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"], credentials=AnonymousCredentials())
    bucket = client.bucket(gcs_bucket_url.removeprefix("gs://"))
    bucket.blob("dir/data.json").upload_from_string(b"[1, 2]", content_type="application/json")
    assert bucket.blob("dir/data.json").download_as_bytes() == b"[1, 2]"
    assert [b.name for b in client.list_blobs(bucket)] == ["dir/data.json"]


def test_storage_root_is_a_fresh_root_of_its_backend(request, storage_root):
    backend = request.node.callspec.id
    expected = {"local": "/", "s3": "s3://", "gcs": "gs://"}[backend]
    assert storage_root.startswith(expected)
    if backend == "local":
        assert Path(storage_root).is_dir() and not any(Path(storage_root).iterdir())


@pytest.mark.parametrize("service_class", [MotoServer, FakeGcsServer, BigtableEmulator, BigQueryEmulator])
def test_server_stops_with_process_gone_and_port_free(tmp_path, service_class):
    service = service_class(log_dir=tmp_path)
    try:
        service.start()
    except ServiceNotInstalled as error:
        if service_class in (BigtableEmulator, BigQueryEmulator):
            service_unavailable(f"{service.name} unavailable: {error}")
        raise
    with service:
        process = service.process
        assert process is not None and process.poll() is None
        assert port_is_open(service.port)
    assert process.poll() is not None
    assert not port_is_open(service.port)
    if isinstance(service, BigQueryEmulator):
        assert not port_is_open(service.grpc_port)
    service.stop()  # idempotent


def test_missing_services_venv_fails_naming_make_envs(monkeypatch, tmp_path):
    monkeypatch.setenv("TAAR_SERVICES_VENV", str(tmp_path / "absent"))
    for service in (MotoServer(log_dir=tmp_path), FakeGcsServer(log_dir=tmp_path), BigQueryEmulator(log_dir=tmp_path)):
        with pytest.raises(ServiceNotInstalled, match=r"run `make envs` \(tools/ensure-venv services\)"):
            service.start()


def test_missing_cbtemulator_names_the_install_step(monkeypatch, tmp_path):
    monkeypatch.setenv("CBTEMULATOR", str(tmp_path / "cbtemulator"))
    with pytest.raises(ServiceNotInstalled, match="CBTEMULATOR"):
        BigtableEmulator(log_dir=tmp_path).start()


def test_plugin_fails_without_services_venv_and_skips_loudly_without_cbtemulator(pytester, monkeypatch, tmp_path):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TAAR_SERVICES_VENV", str(tmp_path / "absent"))
    monkeypatch.setenv("CBTEMULATOR", str(tmp_path / "cbtemulator"))
    pytester.makepyfile(
        "def test_needs_s3(moto_s3):\n    pass\n\n\ndef test_needs_bigtable(bigtable_emulator):\n    pass\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(errors=1, skipped=1)
    result.stdout.fnmatch_lines_random(
        [
            "*moto_server*run `make envs` (tools/ensure-venv services)*",
            "SKIPPED*cbtemulator unavailable: CBTEMULATOR=* is not an executable file*",
        ]
    )


def test_in_ci_an_emulator_that_cannot_start_fails_instead_of_skipping(pytester, monkeypatch, tmp_path):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("CBTEMULATOR", str(tmp_path / "cbtemulator"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no java either: the spark fixture must fail too
    monkeypatch.delenv("JAVA_HOME", raising=False)
    pytester.makepyfile(
        "def test_needs_bigtable(bigtable_emulator):\n    pass\n\n\ndef test_needs_spark(spark):\n    pass\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines_random(
        [
            "*cbtemulator unavailable: CBTEMULATOR=* is not an executable file*CI=true*",
            "*Java not found*CI=true*",
        ]
    )
