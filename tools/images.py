#!/usr/bin/env python3
"""Build, check and smoke-test the per-job container images (stdlib only).

Usage:
  tools/images.py tag JOB                     print taar-<job>:<version>
  tools/images.py context JOB                 prepare build/images/JOB/ (the job + its requirements.lock, vendor/)
  tools/images.py locks [--check] [JOB ...]   (re)write jobs/<job>/requirements.lock: every package the image
                                              installs, pinned with hashes (uv pip compile --generate-hashes);
                                              --check only verifies each lock matches today's pins (offline)
  tools/images.py build [JOB ...]             build taar-<job>:<version> (every job when none is named)
  tools/images.py base-image [--extra-ca-dir DIR]
                                              debootstrap a Debian bookworm + python3 base, no registry needed
  tools/images.py test [JOB ...] [--preflight-only]
                                              install what is missing (podman, runc, debootstrap via apt as root,
                                              the local base image when no base is set) or stop with the exact
                                              command; then build, run --help and one small job in each as uid 10001
  tools/images.py dockerfiles [--check]       (re)write jobs/*/Dockerfile and .dockerignore from templates/job/

The engine is docker when its daemon answers, else podman (with deploy/podman/containers.conf).
The Dockerfile's BASE_IMAGE argument is --base-image, else env BASE_IMAGE, else the local
taar-base:bookworm when `base-image` made one, else the Dockerfile's default (the official slim Python).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from images_smoke import smoke_test_all

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "images"
TEMPLATE = ROOT / "templates" / "job"
COMMON = ROOT / "libs" / "taar_common"
PODMAN_CONF = ROOT / "deploy" / "podman" / "containers.conf"
LOCAL_BASE = "taar-base:bookworm"
SPARK_BEGIN, SPARK_END = "# >>> spark", "# <<< spark"  # blocks kept only for jobs that pin pyspark
CONTEXT_SKIP = {"tests", "bench", ".venv", "taar-data", "__pycache__", ".pytest_cache", ".ruff_cache", "build"}
DEBIAN_PACKAGES = ["python3", "python3-pip", "python3-venv", "ca-certificates"]
LOCK_NAME = "requirements.lock"
LOCK_PYTHON = "3.11"  # the Dockerfile's base: python:3.11-slim-bookworm (or Debian bookworm's python3, 3.11)
UV = ROOT / ".venv" / "tools" / "bin" / "uv"  # tools/ensure-venv installs a pinned uv here


def log(message: str) -> None:
    print(f"images: {message}", file=sys.stderr, flush=True)


def job_names() -> list[str]:
    return sorted(p.name for p in (ROOT / "jobs").iterdir() if (p / "pyproject.toml").is_file())


def project(path: Path) -> dict:
    return tomllib.loads((path / "pyproject.toml").read_text())["project"]


def build_system(path: Path) -> list[str]:
    return tomllib.loads((path / "pyproject.toml").read_text())["build-system"]["requires"]


def script_name(job: str) -> str:
    return "taar-" + job.replace("_", "-")


def image_tag(job: str) -> str:
    return f"{script_name(job)}:{project(ROOT / 'jobs' / job)['version']}"


def uses_spark(job: str) -> bool:
    return any(
        re.split(r"[=<>\[ ]", d, maxsplit=1)[0] == "pyspark" for d in project(ROOT / "jobs" / job)["dependencies"]
    )


# --- Dockerfiles -----------------------------------------------------------------------------


def render_dockerfile(job: str) -> str:
    """The template with the job's console script; the Spark block is kept only for Spark jobs."""
    text = (TEMPLATE / "Dockerfile").read_text().replace("taar-JOBNAME", script_name(job))
    if not uses_spark(job):
        text = re.sub(rf"{re.escape(SPARK_BEGIN)}.*?{re.escape(SPARK_END)}\n", "", text, flags=re.S)
    return text


def dockerfiles(check: bool) -> int:
    stale = []
    for job in job_names():
        folder = ROOT / "jobs" / job
        wanted = {"Dockerfile": render_dockerfile(job), ".dockerignore": (TEMPLATE / ".dockerignore").read_text()}
        for name, text in wanted.items():
            path = folder / name
            if path.exists() and path.read_text() == text:
                continue
            stale.append(str(path.relative_to(ROOT)))
            if not check:
                path.write_text(text)
    if stale:
        verb = "out of date (run `tools/images.py dockerfiles`)" if check else "rewritten"
        log(f"{verb}: {', '.join(stale)}")
    return 1 if check and stale else 0


# --- build context ---------------------------------------------------------------------------


def requirement_name(requirement: str) -> str:
    return re.split(r"[=<>\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def requirements(job: str) -> list[str]:
    """The job's pinned dependencies plus taar_common's (and the extras the job asks of it), deduplicated.

    taar-common itself is left out: the image installs the vendored copy.
    """
    job_deps = project(ROOT / "jobs" / job)["dependencies"]
    common = project(COMMON)
    wanted = list(common["dependencies"])
    for dep in job_deps:
        if requirement_name(dep) == "taar-common":
            extras = re.search(r"\[([^\]]+)\]", dep)
            for extra in extras.group(1).split(",") if extras else []:
                wanted += common["optional-dependencies"][extra.strip()]
        else:
            wanted.append(dep)
    pins: dict[str, str] = {}
    for dep in wanted:
        name = requirement_name(dep)
        dep = dep.replace(" ", "")
        if name in pins and pins[name] != dep:
            raise SystemExit(f"jobs/{job}: {dep} conflicts with {pins[name]} (job pin vs taar_common pin); align them")
        pins[name] = dep
    return [pins[n] for n in sorted(pins)]


def copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(
        source, target, ignore=lambda _d, names: [n for n in names if n in CONTEXT_SKIP or n.endswith(".pyc")]
    )


def lock_inputs(job: str) -> list[str]:
    """What the image installs before its code: the runtime pins plus the pyprojects' build backend."""
    backend = {r.replace(" ", "") for path in (ROOT / "jobs" / job, COMMON) for r in build_system(path)}
    return requirements(job) + sorted(backend)


def lock_digest(job: str) -> str:
    return hashlib.sha256("\n".join(lock_inputs(job)).encode()).hexdigest()[:16]


def lock_header(job: str) -> str:
    return (
        f"# Generated by `tools/images.py locks` from jobs/{job} and libs/taar_common pyprojects: do not edit.\n"
        f"# inputs sha256: {lock_digest(job)}\n"
    )


def lock_problem(job: str, path: Path | None = None) -> str | None:
    """Why jobs/<job>/requirements.lock (or `path`) cannot be used as is, or None."""
    path = path or ROOT / "jobs" / job / LOCK_NAME
    if not path.is_file():
        return f"{path.relative_to(ROOT)} missing"
    text = path.read_text()
    if not text.startswith(lock_header(job)):
        return f"{path.name} of {job} is stale (its pins changed since it was compiled)"
    entries = re.findall(
        r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)==([^\s;]+)[^\\\n]*((?:\\\n\s+--hash=sha256:[0-9a-f]{64})+)", text, re.M
    )
    pinned = {requirement_name(name): version for name, version, _hashes in entries}
    unhashed = [line for line in text.splitlines() if re.match(r"^[A-Za-z0-9]", line) and not line.endswith("\\")]
    if unhashed:
        return f"{path.name} of {job}: entries without a hash: {unhashed}"
    for requirement in lock_inputs(job):
        name, version = requirement_name(requirement), requirement.split("==", 1)[1]
        if pinned.get(name) != version:
            return f"{path.name} of {job}: {requirement} is locked as {pinned.get(name)}"
    return None


def compile_lock(job: str) -> str:
    """uv pip compile --generate-hashes of the job's lock inputs, for Python 3.11 on any platform."""
    uv = str(UV) if UV.exists() else shutil.which("uv")
    if not uv:
        raise SystemExit("uv not found: run `make envs` (tools/ensure-venv installs it under .venv/tools)")
    with tempfile.TemporaryDirectory(prefix="taar-lock-") as tmp:
        inputs = Path(tmp) / "requirements.in"
        inputs.write_text("\n".join(lock_inputs(job)) + "\n")
        command = [uv, "pip", "compile", "--quiet", "--generate-hashes", "--universal", "--no-header",
                   "--python-version", LOCK_PYTHON, str(inputs)]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"locking jobs/{job} failed: {' '.join(command)}\n{result.stderr}")
    body = result.stdout.replace(str(inputs), "requirements.in")
    return lock_header(job) + body


def locks(jobs: list[str], check: bool) -> int:
    """Write (or with check, verify offline) jobs/<job>/requirements.lock for each job."""
    problems = []
    for job in jobs:
        problem = lock_problem(job)
        if check:
            if problem:
                problems.append(problem)
            continue
        (ROOT / "jobs" / job / LOCK_NAME).write_text(compile_lock(job))
        log(f"locked jobs/{job}/{LOCK_NAME}" + (f" (was: {problem})" if problem else ""))
    for problem in problems:
        log(f"{problem}: run `tools/images.py locks`")
    return 1 if problems else 0


def prepare_context(job: str) -> Path:
    """build/images/<job>/ = the job folder (with its current requirements.lock) + vendor/taar_common."""
    problem = lock_problem(job)
    if problem:
        raise SystemExit(f"{problem}: run `tools/images.py locks {job}` before building")
    context = BUILD / job
    shutil.rmtree(context, ignore_errors=True)
    copy_tree(ROOT / "jobs" / job, context)
    copy_tree(COMMON, context / "vendor" / "taar_common")
    return context


# --- engine ----------------------------------------------------------------------------------


def engine() -> list[str]:
    """docker when its daemon answers, else podman with the repo's containers.conf."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "info"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker"]
    if shutil.which("podman"):
        os.environ.setdefault("CONTAINERS_CONF", str(PODMAN_CONF))
        return ["podman"]
    raise SystemExit("no container engine: docker has no daemon here and podman is not installed (see README Deploy)")


def image_exists(cli: list[str], tag: str) -> bool:
    return subprocess.run([*cli, "image", "inspect", tag], capture_output=True).returncode == 0


def image_size(cli: list[str], tag: str) -> int:
    out = subprocess.run([*cli, "image", "inspect", tag, "--format", "{{.Size}}"], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def base_image_arg(requested: str | None, cli: list[str]) -> str | None:
    """--base-image, else env BASE_IMAGE, else the local debootstrap base when built, else the Dockerfile's."""
    chosen = requested or os.environ.get("BASE_IMAGE")
    if not chosen and image_exists(cli, LOCAL_BASE):
        chosen = LOCAL_BASE
    return chosen or None


def build(job: str, cli: list[str], base_image: str | None) -> dict:
    context = prepare_context(job)
    tag = image_tag(job)
    command = [*cli, "build", "--tag", tag, "--file", str(context / "Dockerfile")]
    if base_image:
        command += ["--build-arg", f"BASE_IMAGE={base_image}"]
    if cli[0] == "podman":
        command += ["--network", "host", "--layers"]
    log(f"building {tag} from {context.relative_to(ROOT)}" + (f" on {base_image}" if base_image else ""))
    start = time.monotonic()
    if subprocess.run([*command, str(context)]).returncode != 0:
        raise SystemExit(f"building {tag} failed (output above): {' '.join(command)} {context}")
    took = time.monotonic() - start
    size = image_size(cli, tag)
    log(f"built {tag} in {took:.0f} s, {size / 1e6:.0f} MB")
    return {"job": job, "image": tag, "build_seconds": round(took, 1), "size_mb": round(size / 1e6)}


# --- preflight (make test-images in one command) ----------------------------------------------


ENGINE_PACKAGES = {"podman": "podman", "runc": "runc", "debootstrap": "debootstrap"}  # program -> Debian package


def docker_answers() -> bool:
    return bool(shutil.which("docker")) and subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def apt_install(packages: list[str], why: str) -> None:
    """apt-get install as root; otherwise stop naming the exact command to run."""
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if os.geteuid() != 0:
        raise SystemExit(f"{why}: run `sudo apt-get update && sudo {' '.join(command)}`, then `make test-images`")
    log(f"{why}: apt-get update && {' '.join(command)}")
    wait = ["-o", "DPkg::Lock::Timeout=600"]  # another install may hold the dpkg lock: wait for it
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", *wait, "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", *wait, *command[1:]], check=True, env=env, stdout=subprocess.DEVNULL)


def preflight(requested_base: str | None, extra_ca_dir: str | None) -> tuple[list[str], str | None]:
    """(engine, base image) for `test`, installing podman/runc/debootstrap and the local base when needed."""
    if docker_answers():
        return ["docker"], base_image_arg(requested_base, ["docker"])
    need_base = not (requested_base or os.environ.get("BASE_IMAGE"))
    wanted = ["podman", "runc"] + (["debootstrap"] if need_base else [])
    missing = [ENGINE_PACKAGES[p] for p in wanted if not shutil.which(p) and not Path(f"/usr/sbin/{p}").exists()]
    if missing:
        apt_install(missing, f"no docker daemon and {', '.join(missing)} missing")
    cli = engine()
    base = base_image_arg(requested_base, cli)
    if base is None:
        # No registry here to pull the Dockerfile's default from: build the local Debian base once.
        if os.geteuid() != 0:
            raise SystemExit(
                f"no base image: run `sudo {sys.executable} tools/images.py base-image` (or set BASE_IMAGE)"
            )
        base_image(LOCAL_BASE, extra_ca_dir, cli)
        base = LOCAL_BASE
    log(f"preflight ok: engine {cli[0]}, base {base}")
    return cli, base


# --- base image ------------------------------------------------------------------------------


def debian_mirror() -> str:
    """The first Debian mirror configured for this machine's apt (deb822 or one-line format)."""
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources")) + [Path("/etc/apt/sources.list")]
    sources += sorted(Path("/etc/apt/sources.list.d").glob("*.list"))
    for path in sources:
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            found = re.match(r"\s*(?:URIs:|deb(?:\s+\[[^\]]*\])?)\s+(\S+/debian)/?(\s|$)", line)
            if found:
                return found.group(1)
    return "http://deb.debian.org/debian"


HOST_EXTRA_CAS = Path("/usr/local/share/ca-certificates")
"""Where Debian keeps the CAs an admin added (a TLS-intercepting network's, say)."""


def default_extra_ca_dir() -> str | None:
    """EXTRA_CA_DIR, else the host's added CAs when it has any: the local base then trusts what the
    host trusts, so pip inside the image builds reaches PyPI where the host does."""
    if os.environ.get("EXTRA_CA_DIR"):
        return os.environ["EXTRA_CA_DIR"]
    return str(HOST_EXTRA_CAS) if any(HOST_EXTRA_CAS.glob("*.crt")) else None


def base_image(tag: str, extra_ca_dir: str | None, cli: list[str]) -> None:
    """Debian bookworm minbase + python3/pip/venv, imported into the engine: no container registry needed."""
    if os.geteuid() != 0:
        raise SystemExit("base-image needs root (debootstrap and chroot)")
    if not shutil.which("debootstrap"):
        raise SystemExit("debootstrap missing: apt-get install -y debootstrap")
    mirror = debian_mirror()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="taar-base-", dir=BUILD.parent if BUILD.parent.exists() else None) as tmp:
        rootfs = Path(tmp) / "rootfs"
        log(f"debootstrap bookworm from {mirror}")
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(DEBIAN_PACKAGES)}", "bookworm", rootfs, mirror],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        security = mirror.removesuffix("/debian") + "/debian-security"
        (rootfs / "etc/apt/sources.list").write_text(
            f"deb {mirror} bookworm main\ndeb {mirror} bookworm-updates main\ndeb {security} bookworm-security main\n"
        )
        extra_certs = sorted(Path(extra_ca_dir).glob("*.crt")) if extra_ca_dir else []
        for cert in extra_certs:
            shutil.copy(cert, rootfs / "usr/local/share/ca-certificates" / cert.name)
        chroot = [
            "chroot",
            str(rootfs),
            "/usr/bin/env",
            "DEBIAN_FRONTEND=noninteractive",
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        subprocess.run([*chroot, "update-ca-certificates"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            [*chroot, "sh", "-c", "apt-get update -qq && apt-get -y -qq upgrade && apt-get clean"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
        (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True)
        for cache in (rootfs / "var/cache/apt").glob("*.bin"):
            cache.unlink()
        changes = [
            'CMD ["/bin/bash"]',
            "ENV LANG=C.UTF-8",
            # Debian's pip and requests read these; with an intercepting proxy they carry its CA.
            "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
            "ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt",
            "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        ]
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        flags = [arg for change in changes for arg in ("--change", change)]
        subprocess.run([*cli, "import", *flags, "-", tag], stdin=tar.stdout, check=True, stdout=subprocess.DEVNULL)
        if tar.wait() != 0:
            raise SystemExit("tar of the base rootfs failed")
    size_mb = image_size(cli, tag) / 1e6
    log(f"imported {tag} in {time.monotonic() - start:.0f} s ({size_mb:.0f} MB, {len(extra_certs)} extra CA)")


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("context").add_argument("job")
    sub.add_parser("tag").add_argument("job")
    for name in ("build", "test"):
        cmd = sub.add_parser(name)
        cmd.add_argument("jobs", nargs="*")
        cmd.add_argument(
            "--base-image", help="BASE_IMAGE build argument (default: env BASE_IMAGE, else the Dockerfile's)"
        )
    sub.choices["test"].add_argument("--preflight-only", action="store_true", help="install/check, build nothing")
    sub.choices["test"].add_argument("--extra-ca-dir", default=default_extra_ca_dir())
    base = sub.add_parser("base-image")
    base.add_argument("--tag", default=LOCAL_BASE)
    base.add_argument("--extra-ca-dir", default=default_extra_ca_dir())
    sub.add_parser("dockerfiles").add_argument("--check", action="store_true")
    lock = sub.add_parser("locks")
    lock.add_argument("jobs", nargs="*")
    lock.add_argument("--check", action="store_true", help="verify the locks against the pins, write nothing")
    args = parser.parse_args(argv)

    if args.command == "dockerfiles":
        return dockerfiles(args.check)
    if args.command == "locks":
        return locks(args.jobs or job_names(), args.check)
    if args.command == "tag":
        print(image_tag(args.job))
        return 0
    if args.command == "context":
        print(prepare_context(args.job))
        return 0
    if args.command == "test":
        cli, base = preflight(args.base_image, args.extra_ca_dir)
        jobs = args.jobs or job_names()
        unknown = sorted(set(jobs) - set(job_names()))
        if unknown:
            raise SystemExit(f"unknown job(s) {unknown}; jobs are {job_names()}")
        return 0 if args.preflight_only else smoke_test_all(jobs, cli, base, build)
    cli = engine()
    if args.command == "base-image":
        base_image(args.tag, args.extra_ca_dir, cli)
        return 0
    jobs = args.jobs or job_names()
    unknown = sorted(set(jobs) - set(job_names()))
    if unknown:
        raise SystemExit(f"unknown job(s) {unknown}; jobs are {job_names()}")
    for job in jobs:
        build(job, cli, base_image_arg(args.base_image, cli))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
