"""`pip install .` gives a working `python -m bot migrate`: the wheel holds the migrations next
to the code, and the installed package finds them from any directory (no source tree, no
alembic.ini). The wheel is built from a copy of the source the way pip builds it; building
needs setuptools from the package index, so without one the test skips."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.db import alembic_config

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["pyproject.toml", "README.md", "bot", "handlers", "models", "jobs", "migrations"]
NO_INDEX = (
    "No matching distribution found for setuptools",
    "Could not find a version that satisfies the requirement setuptools",
    "Failed to establish a new connection",
)


def _wheel(tmp_path: Path) -> Path:
    """The wheel `pip install .` would install, built from a clean copy of the sources."""
    source = tmp_path / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), "."],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    output = build.stdout + build.stderr
    if build.returncode != 0 and any(sign in output for sign in NO_INDEX):
        pytest.skip("no package index to fetch setuptools from")
    assert build.returncode == 0, output
    (wheel,) = out.glob("hearth-*.whl")
    return wheel


def test_the_installed_package_migrates_from_any_directory(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    versions = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    assert versions
    for name in ["env.py", "script.py.mako", *(f"versions/{v}" for v in versions)]:
        assert f"migrations/{name}" in names, f"migrations/{name} is not in {wheel.name}"
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"bot", "handlers", "models", "jobs", "migrations"}

    site = tmp_path / "site-packages"  # a pure-Python wheel installs by unpacking it
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    elsewhere = tmp_path / "elsewhere"  # neither the sources nor an alembic.ini
    elsewhere.mkdir()
    database = tmp_path / "hearth.db"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL")}
    env.update(PYTHONPATH=str(site), DATABASE_URL=f"sqlite+aiosqlite:///{database}")

    def run(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    assert "database is up to date" in run("-m", "bot", "migrate")
    where = run("-c", "import bot.db; print(bot.db.__file__)").strip()
    assert Path(where) == site / "bot" / "db.py"  # the installed copy, not the source tree

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    with sqlite3.connect(database) as connection:
        (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert version == head
    assert {"chats", "members"} <= tables
