"""One small API over `gs://`, `s3://`, `file://` and plain local paths.

Every write is complete or absent: local files go through a temp file and `os.replace`,
S3 through a single PUT, GCS through a single (or resumable) upload. Clients honour the
standard emulator settings (`STORAGE_EMULATOR_HOST`, `AWS_ENDPOINT_URL_S3`).
"""

from __future__ import annotations

import bz2
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

LOCAL_DATA_ROOT = "taar-data"
DATA_ROOT_ENV = "TAAR_DATA"
"""Environment variable naming the embedded-default root (wins over the checkout and the cwd)."""
_CHECKOUT_MARKER = Path("libs", "taar_common", "pyproject.toml")
STALE_TEMP_AGE_S = 600
"""A local temp file of ours older than this was left by a killed run and is removed."""

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")


class StorageError(RuntimeError):
    """A storage operation failed; the message names the URL."""


class NotFoundError(StorageError, FileNotFoundError):
    """The object does not exist."""


class InvalidKeyError(ValueError):
    """A prefix, name or URL that would escape its bucket (`..`, a leading `/`, `a//b`)."""


def check_key(key: str, what: str = "key") -> str:
    """Return `key` if it stays inside its bucket; refuse `..`, a leading `/` and empty segments.

    A trailing `/` (a folder prefix) is allowed. The same rule holds for every backend, so a
    prefix that is refused on GCS is refused locally too.
    """
    if key.startswith("/"):
        raise InvalidKeyError(f"{what} {key!r} starts with '/': give it relative to the bucket")
    segments = key[:-1].split("/") if key.endswith("/") else key.split("/")
    if key and "" in segments:
        raise InvalidKeyError(f"{what} {key!r} has an empty segment ('//')")
    if ".." in segments or "." in segments:
        raise InvalidKeyError(f"{what} {key!r} has a '..' or '.' segment: it would leave the bucket")
    return key


def check_bucket_name(name: str, url: str) -> str:
    """GCS/S3 bucket naming rules (lowercase letters, digits, `-`, `_`, `.`; 3-222 characters)."""
    if not _BUCKET_NAME.fullmatch(name):
        raise ValueError(f"storage URL {url!r}: {name!r} is not a valid bucket name")
    return name


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
        check_bucket_name(parsed.netloc, url)
        key = parsed.path.removeprefix("/")
        check_key(key, f"key of {url!r}")
        return Location(parsed.scheme, parsed.netloc, key)
    if "://" in url and not url.startswith("file://"):
        raise ValueError(f"unsupported storage URL {url!r}: use gs://, s3://, file:// or a path")
    if url.startswith("file://"):
        parsed = urlparse(url)
        if parsed.netloc:
            # file://etc/x would silently become /x: the host part is never a folder
            raise ValueError(f"storage URL {url!r} has a host ({parsed.netloc!r}): write file:///absolute/path")
        path = parsed.path
    else:
        path = url
    folder = "/" if path.endswith("/") else ""  # a trailing slash means "inside this folder"
    return Location("file", "", str(Path(path).resolve()) + folder)


def join_url(base: str, *parts: str) -> str:
    """Join key parts onto a URL with single slashes (empty parts are skipped).

    A part with a `..` segment or an inner `//` is refused (InvalidKeyError), whatever the backend.
    """
    pieces = [base.rstrip("/")] + [check_key(p.strip("/"), "key part") for p in parts if p and p.strip("/")]
    return "/".join(pieces)


def local_data_root(cwd: Path | None = None) -> Path:
    """The embedded-default root every job reads and writes when given no location flags.

    Precedence: `$TAAR_DATA`; else `<checkout>/taar-data` when started anywhere inside a
    taar-etl checkout (so `cd jobs/x && taar-x` lands where `make demo` does); else
    `./taar-data` in the current directory (a container, an installed wheel).
    """
    configured = os.environ.get(DATA_ROOT_ENV, "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / _CHECKOUT_MARKER).is_file():
            return folder / LOCAL_DATA_ROOT
    return here / LOCAL_DATA_ROOT


def resolve_bucket_url(bucket: str | None, default_bucket: str) -> str:
    """`--bucket` as given: a URL, a bare name (GCS), or None for `<data root>/<default>` (`local_data_root`)."""
    if bucket is None or bucket == "":
        return str(local_data_root() / default_bucket)
    if "://" in bucket:
        location = parse_url(bucket)  # refuses unsupported schemes, file:// hosts, bad bucket names
        return str(Path(location.key)) if location.scheme == "file" else bucket.rstrip("/")
    if "/" in bucket or bucket.startswith("."):
        return str(Path(bucket).resolve())
    return f"gs://{bucket}"


class Backend(Protocol):
    def read(self, loc: Location) -> bytes: ...
    def write(self, loc: Location, data: bytes, content_type: str) -> None: ...
    def create(self, loc: Location, data: bytes, content_type: str) -> bool: ...
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
        remove_stale_temp_files(target)
        tmp = self._write_temp(target, data)
        try:
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def create(self, loc: Location, data: bytes, content_type: str) -> bool:
        """Write only if absent: a complete temp file hard-linked into place (link fails if it exists)."""
        target = Path(loc.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._write_temp(target, data)
        try:
            os.link(tmp, target)
            return True
        except FileExistsError:
            return False
        finally:
            Path(tmp).unlink(missing_ok=True)

    @staticmethod
    def _write_temp(target: Path, data: bytes) -> str:
        """A complete, fsynced temp file next to `target`, with the mode the umask gives new files."""
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                # mkstemp makes 0600 files; published artifacts get what open() would give (0644 under 022)
                os.fchmod(handle.fileno(), 0o666 & ~current_umask())
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return tmp

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


def current_umask() -> int:
    """The process umask, read from /proc when possible (setting it to probe is not thread-safe)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_stale_temp_files(target: Path, max_age_s: float = STALE_TEMP_AGE_S) -> list[Path]:
    """Remove `.NAME.<random>.tmp` files next to `target` left by a killed run (only ours, only old ones)."""
    ours = re.compile(rf"\.{re.escape(target.name)}\.[A-Za-z0-9_]{{8}}\.tmp")
    removed = []
    cutoff = time.time() - max_age_s
    for candidate in target.parent.glob(f".{glob_escape(target.name)}.*.tmp"):
        try:
            if ours.fullmatch(candidate.name) and candidate.stat().st_mtime < cutoff:
                candidate.unlink()
                removed.append(candidate)
        except FileNotFoundError:
            continue  # another run removed it first
    return removed


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


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

    def create(self, loc: Location, data: bytes, content_type: str) -> bool:
        """Conditional PUT (`If-None-Match: *`): S3 answers 412 PreconditionFailed if the key exists."""
        from botocore.exceptions import ClientError

        try:
            self._client.put_object(
                Bucket=loc.bucket, Key=loc.key, Body=data, ContentType=content_type, IfNoneMatch="*"
            )
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise

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

    def create(self, loc: Location, data: bytes, content_type: str) -> bool:
        """Upload with `ifGenerationMatch=0`: GCS answers 412 if any live object has the name."""
        from google.api_core.exceptions import PreconditionFailed

        try:
            self._blob(loc).upload_from_string(data, content_type=content_type, if_generation_match=0)
            return True
        except PreconditionFailed:
            return False

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
            if loc.scheme != "file" and _is_missing_bucket(op, exc):
                raise StorageError(
                    f"{op} {loc.url} failed: bucket {loc.scheme}://{loc.bucket} does not exist (or is not visible)"
                ) from exc
            # client errors can span lines (GCS adds the response body): keep the message one line
            raise StorageError(" ".join(f"{op} {loc.url} failed: {exc}".split())) from exc

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

    def create_bytes(self, url: str, data: bytes, content_type: str = "application/json") -> bool:
        """Write the object only if it does not exist yet, atomically; False if it already existed.

        S3 `If-None-Match: *`, GCS `ifGenerationMatch=0`, local hard link of a complete temp file.
        """
        return self._call("create", url, data, content_type)

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


def _is_missing_bucket(op: str, exc: Exception) -> bool:
    """S3 `NoSuchBucket`, or a GCS 404 on an upload or a listing (both address only the bucket)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error", {}).get("Code") == "NoSuchBucket":
        return True
    if type(exc).__name__ == "NotFound" and type(exc).__module__.startswith("google"):
        return op in ("write", "create", "list") or "bucket does not exist" in str(exc).lower()
    return False


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
