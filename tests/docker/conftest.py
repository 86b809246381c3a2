"""The image under test, built once per run. Building installs every dependency (minutes, not
seconds), so these tests run only when asked for with HEARTH_DOCKER_TEST=1 and a Docker daemon
answers (`docker info`); elsewhere they skip, and `make test` stays as fast as it was.
HEARTH_PYTHON_IMAGE names the base image when python:3.11-slim cannot be pulled (the
Dockerfile's PYTHON_IMAGE build argument); DOCKER_NOTES.md shows how to make one."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _docker_ready() -> str | None:
    """Why the tests cannot run here, or None."""
    if os.environ.get("HEARTH_DOCKER_TEST") != "1":
        return "set HEARTH_DOCKER_TEST=1 to build the image (takes minutes)"
    if shutil.which("docker") is None:
        return "no docker command"
    info = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=30)
    return None if info.returncode == 0 else "no Docker daemon answers (docker info failed)"


REASON = _docker_ready()


# every test module here starts with `pytestmark = SKIP`
SKIP = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def docker(*args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=False, timeout=timeout
    )
    assert result.returncode == 0, f"docker {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def image() -> Iterator[str]:
    tag = f"hearth-test:{uuid.uuid4().hex[:12]}"
    base = os.environ.get("HEARTH_PYTHON_IMAGE")
    build_args = ["--build-arg", f"PYTHON_IMAGE={base}"] if base else []
    docker("build", *build_args, "--tag", tag, str(ROOT), timeout=1800)
    yield tag
    subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True, check=False)
