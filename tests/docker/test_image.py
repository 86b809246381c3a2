"""The container image builds, runs as a non-root user, holds the bot as an installed package
and applies the migrations before the bot starts (skips unless HEARTH_DOCKER_TEST=1: see
conftest.py)."""

from __future__ import annotations

import subprocess

from tests.docker.conftest import SKIP, docker

pytestmark = SKIP


def test_the_image_runs_as_a_non_root_user(image: str) -> None:
    assert docker("run", "--rm", image, "id", "-u").strip() != "0"


def test_the_bot_is_the_installed_package_and_migrates_from_any_directory(image: str) -> None:
    """No source tree in the image: `python -m bot migrate` uses the installed migrations."""
    script = "import bot, os; print(bot.__file__); print(sorted(os.listdir('/app')))"
    where = docker("run", "--rm", image, "python", "-c", script).splitlines()
    assert "site-packages" in where[0] or "dist-packages" in where[0], where
    assert where[1] == "['data']", where
    url = "DATABASE_URL=sqlite+aiosqlite:////tmp/hearth.db"
    output = docker(
        "run", "--rm", "--workdir", "/", "--env", url, image, "python", "-m", "bot", "migrate"
    )
    assert "database is up to date" in output


def test_the_default_command_migrates_before_it_starts_the_bot(image: str) -> None:
    """With no BOT_TOKEN the bot refuses to start with one line, after the migrations ran."""
    result = subprocess.run(
        ["docker", "run", "--rm", "--env", "BOT_TOKEN=", image],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert "database is up to date" in output, output
    assert "BOT_TOKEN" in output, output
    assert result.returncode == 2
