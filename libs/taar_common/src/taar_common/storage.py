"""One small API over `gs://`, `s3://`, `file://` and plain local paths.

Every write is complete or absent: local files go through a temp file and `os.replace`,
S3 through a single PUT, GCS through a single (or resumable) upload. Clients honour the
standard emulator settings (`STORAGE_EMULATOR_HOST`, `AWS_ENDPOINT_URL_S3`).
"""

from __future__ import annotations

import bz2
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

LOCAL_DATA_ROOT = "taar-data"


class StorageError(RuntimeError):
    """A storage operation failed; the message names the URL."""


class NotFoundError(StorageError, FileNotFoundError):
    """The object does not exist."""


@dataclass(frozen=True)
class Location:
    """A parsed storage URL. For `file`, `bucket` is empty and `key` is an absolute path."""

    scheme: str
    bucket: str
    key: str

    @property
    def url(self) -> str:
        if self.scheme == "file":
            return self.key
        return f"{self.scheme}://{self.bucket}/{self.key}"


def parse_url(url: str) -> Location:
    """Parse a storage URL; a plain path (relative or absolute) is a local file."""
    if url.startswith(("gs://", "s3://")):
        parsed = urlparse(url)
        if not parsed.netloc:
            raise ValueError(f"storage URL {url!r} has no bucket")
        return Location(parsed.scheme, parsed.netloc, parsed.path.lstrip("/"))
    if "://" in url and not url.startswith("file://"):
        raise ValueError(f"unsupported storage URL {url!r}: use gs://, s3://, file:// or a path")
    path = urlparse(url).path if url.startswith("file://") else url
    folder = "/" if path.endswith("/") else ""  # a trailing slash means "inside this folder"
    return Location("file", "", str(Path(path).resolve()) + folder)


def join_url(base: str, *parts: str) -> str:
    """Join key parts onto a URL with single slashes (empty parts are skipped)."""
    pieces = [base.rstrip("/")] + [p.strip("/") for p in parts if p and p.strip("/")]
    return "/".join(pieces)


def resolve_bucket_url(bucket: str | None, default_bucket: str) -> str:
    """`--bucket` as given: a URL, a bare name (GCS), or None for `./taar-data/<default>`."""
    if bucket is None or bucket == "":
        return str(Path(LOCAL_DATA_ROOT, default_bucket).resolve())
    if "://" in bucket:
        return str(Path(parse_url(bucket).key)) if bucket.startswith("file://") else bucket.rstrip("/")
    if "/" in bucket or bucket.startswith("."):
        return str(Path(bucket).resolve())
    return f"gs://{bucket}"


class Backend(Protocol):
    def read(self, loc: Location) -> bytes: ...
    def write(self, loc: Location, data: bytes, content_type: str) -> None: ...
    def exists(self, loc: Location) -> bool: ...
    def list(self, loc: Location) -> list[str]: ...
    def delete(self, loc: Location) -> None: ...


class LocalBackend:
    def read(self, loc: Location) -> bytes:
        try:
            return Path(loc.key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"no such object: {loc.url}") from exc

    def write(self, loc: Location, data: bytes, content_type: str) -> None:
        target = Path(loc.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def exists(self, loc: Location) -> bool:
        return Path(loc.key).exists()

    def list(self, loc: Location) -> list[str]:
        root = Path(loc.key)
        if loc.key.endswith("/"):
            found = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
        else:
            parent = root.parent
            found = [
                p for p in (parent.rglob("*") if parent.is_dir() else []) if p.is_file() and str(p).startswith(loc.key)
            ]
        return sorted(str(p) for p in found if not p.name.endswith(".tmp"))

    def delete(self, loc: Location) -> None:
        path = Path(loc.key)
        if path.is_dir():
            for child in sorted(path.rglob("*"), reverse=True):
                child.rmdir() if child.is_dir() else child.unlink()
            path.rmdir()
        else:
            path.unlink(missing_ok=True)


class S3Backend:
    def __init__(self) -> None:
        import boto3

        self._client = boto3.client("s3")

    def read(self, loc: Location) -> bytes:
        try:
            return self._client.get_object(Bucket=loc.bucket, Key=loc.key)["Body"].read()
        except self._client.exceptions.NoSuchKey as exc:
            raise NotFoundError(f"no such object: {loc.url}") from exc

    def write(self, loc: Location, data: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=loc.bucket, Key=loc.key, Body=data, ContentType=content_type)

    def exists(self, loc: Location) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=loc.bucket, Key=loc.key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def list(self, loc: Location) -> list[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=loc.bucket, Prefix=loc.key):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(f"s3://{loc.bucket}/{key}" for key in keys)

    def delete(self, loc: Location) -> None:
        self._client.delete_object(Bucket=loc.bucket, Key=loc.key)


class GCSBackend:
    def __init__(self) -> None:
        from google.cloud import storage

        if os.environ.get("STORAGE_EMULATOR_HOST"):
            from google.auth.credentials import AnonymousCredentials

            project = os.environ.get("GOOGLE_CLOUD_PROJECT", "taar-local")
            self._client = storage.Client(project=project, credentials=AnonymousCredentials())
        else:
            self._client = storage.Client()

    def _blob(self, loc: Location):
        return self._client.bucket(loc.bucket).blob(loc.key)

    def read(self, loc: Location) -> bytes:
        from google.api_core.exceptions import NotFound

        try:
            return self._blob(loc).download_as_bytes()
        except NotFound as exc:
            raise NotFoundError(f"no such object: {loc.url}") from exc

    def write(self, loc: Location, data: bytes, content_type: str) -> None:
        self._blob(loc).upload_from_string(data, content_type=content_type)

    def exists(self, loc: Location) -> bool:
        return self._blob(loc).exists()

    def list(self, loc: Location) -> list[str]:
        blobs = self._client.list_blobs(loc.bucket, prefix=loc.key)
        return sorted(f"gs://{loc.bucket}/{blob.name}" for blob in blobs)

    def delete(self, loc: Location) -> None:
        from google.api_core.exceptions import NotFound

        try:
            self._blob(loc).delete()
        except NotFound:
            return


class Storage:
    """Reads and writes any storage URL; clients are created lazily, once per scheme."""

    def __init__(self) -> None:
        self._backends: dict[str, Backend] = {}

    def backend(self, scheme: str) -> Backend:
        if scheme not in self._backends:
            factory = {"file": LocalBackend, "s3": S3Backend, "gs": GCSBackend}[scheme]
            self._backends[scheme] = factory()
        return self._backends[scheme]

    def _call(self, op: str, url: str, *args: Any) -> Any:
        loc = parse_url(url)
        try:
            return getattr(self.backend(loc.scheme), op)(loc, *args)
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"{op} {loc.url} failed: {exc}") from exc

    def read_bytes(self, url: str) -> bytes:
        """The object's bytes as stored (no decompression)."""
        return self._call("read", url)

    def write_bytes(self, url: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Write the whole object; it is either complete or absent afterwards."""
        self._call("write", url, data, content_type)

    def exists(self, url: str) -> bool:
        return self._call("exists", url)

    def list_prefix(self, url: str) -> list[str]:
        """URLs of every object whose URL starts with `url`, sorted."""
        return self._call("list", url)

    def delete(self, url: str) -> None:
        """Delete an object (a missing one is not an error)."""
        self._call("delete", url)

    def read_json(self, url: str) -> Any:
        """Parse the JSON at `url`, decompressing `.bz2`; errors name the URL."""
        data = self.read_bytes(url)
        if url.endswith(".bz2"):
            try:
                data = bz2.decompress(data)
            except (OSError, ValueError) as exc:
                raise StorageError(f"{url} is not valid bz2 data: {exc}") from exc
        try:
            return json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StorageError(f"{url} is not valid JSON: {exc}") from exc

    def write_json(self, url: str, payload: Any) -> int:
        """Serialize and write JSON (bz2 when the URL ends in `.bz2`); returns bytes written."""
        data = encode_json(payload, compress="bz2" if url.endswith(".bz2") else None)
        self.write_bytes(url, data, content_type=_content_type(url))
        return len(data)

    def read_artifact(self, url: str) -> Any:
        """Read an artifact in either form: `NAME.json` or `NAME.json.bz2`."""
        alternative = url[: -len(".bz2")] if url.endswith(".bz2") else url + ".bz2"
        for candidate in (url, alternative):
            if self.exists(candidate):
                return self.read_json(candidate)
        raise NotFoundError(f"artifact not found: {url} (nor {alternative})")


def encode_json(payload: Any, compress: str | None = None) -> bytes:
    """Deterministic JSON bytes (sorted keys), optionally bz2-compressed."""
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    if compress == "bz2":
        return bz2.compress(data, compresslevel=9)
    if compress:
        raise ValueError(f"unsupported compression {compress!r}")
    return data


def _content_type(url: str) -> str:
    return "application/x-bzip2" if url.endswith(".bz2") else "application/json"
