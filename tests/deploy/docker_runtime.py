"""A Docker engine and a base image for the container test, made on this machine.

These machines have no container registry: the daemon (Debian's `docker.io`) is started here with
`--bridge=none` when it is not running, and the base image is a Debian root made by `debootstrap`
(python3 and venv for our image; Caddy and wget so the same base also serves as the proxy's
image), with the host's CA bundle baked in so that pip can reach PyPI from inside a build. The
image is kept between runs under a tag that names its recipe.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

SUITE = "bookworm"
PACKAGES = ["python3", "python3-venv", "ca-certificates", "caddy", "wget"]
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
APT_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DAEMON_START_SECONDS = 60


class Unavailable(Exception):
    """Containers cannot run here; the message says why (the test skips with it)."""


def run(*command: str, timeout: float = 600, **options: object) -> subprocess.CompletedProcess[str]:
    """Run a command; its output (raises with what it printed when it fails)."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **options)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result  # type: ignore[no-any-return]


def _answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


class Engine:
    """The Docker daemon: the one already running, or one started (and stopped) by this object."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self._daemon: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Make sure a daemon answers, or raise `Unavailable`."""
        if shutil.which("docker") is None:
            raise Unavailable("no docker client (Debian's docker.io provides it; .ci/run installs it)")
        if _answers():
            return
        dockerd = shutil.which("dockerd")
        if dockerd is None or os.geteuid() != 0:
            raise Unavailable(
                "no Docker daemon running, and dockerd cannot be started here (needs root and docker.io)"
            )
        with self.log.open("wb") as out:
            self._daemon = subprocess.Popen(
                [dockerd, "--bridge=none", "--iptables=false", "--ip6tables=false"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + DAEMON_START_SECONDS
        while not _answers():
            if self._daemon.poll() is not None or time.monotonic() > deadline:
                raise Unavailable(f"dockerd did not start:\n{self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop the daemon if this object started it."""
        if self._daemon is not None and self._daemon.poll() is None:
            self._daemon.terminate()
            try:
                self._daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._daemon.kill()
                self._daemon.wait(timeout=10)


def mirror() -> str:
    """The Debian mirror apt is configured with (the only one these machines reach)."""
    if APT_SOURCES.exists():
        found = re.search(r"^URIs:\s*(\S+)", APT_SOURCES.read_text(encoding="utf-8"), flags=re.MULTILINE)
        if found:
            return found[1]
    return DEFAULT_MIRROR


def base_tag() -> str:
    """The tag of the base image this recipe (and this host's CA bundle) makes."""
    recipe = json.dumps({"suite": SUITE, "packages": PACKAGES, "mirror": mirror()}).encode()
    ca = HOST_CA_BUNDLE.read_bytes() if HOST_CA_BUNDLE.exists() else b""
    return f"chatkit-test-base:{hashlib.sha256(recipe + ca).hexdigest()[:12]}"


def image_exists(tag: str) -> bool:
    return (
        subprocess.run(["docker", "image", "inspect", tag], capture_output=True, timeout=30).returncode == 0
    )


def ensure_base_image() -> tuple[str, float]:
    """The base image's tag, made with debootstrap unless it exists; the seconds that took."""
    tag = base_tag()
    if image_exists(tag):
        return tag, 0.0
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise Unavailable(
            "no debootstrap to make a base image with (Debian's debootstrap; .ci/run installs it)"
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chatkit-base-") as directory:
        root = Path(directory) / "root"
        run(
            debootstrap,
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(root),
            mirror(),
            timeout=900,
        )
        if HOST_CA_BUNDLE.exists():  # this test base only: pip inside a build trusts what the host trusts
            shutil.copyfile(HOST_CA_BUNDLE, root / "etc/ssl/certs/ca-certificates.crt")
        archive = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        run(
            "docker",
            "import",
            "--change",
            "ENV LANG=C.UTF-8",
            "--change",
            "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
            "-",
            tag,
            stdin=archive.stdout,
        )
        archive.wait(timeout=60)
    return tag, time.monotonic() - started
