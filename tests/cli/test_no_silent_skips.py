"""The suite fails on an unexpected skip, and `.ci/run`'s guard fails on a missing service.

A skipped test did not run; a green run must mean every test ran.  The conftest hook
(tests/conftest.py) turns any skip whose reason is not on ALLOWED_SKIP_REASONS into a
failed session; tools/check-test-deps fails when Chromium, Node >= 20, PostgreSQL or
Redis is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ALLOWED_SKIP_REASONS, skip_is_allowed

ROOT = Path(__file__).parents[2]
GUARD = ROOT / "tools" / "check-test-deps"


def test_allow_list_is_empty_on_this_machine_kind() -> None:
    assert ALLOWED_SKIP_REASONS == ()
    assert not skip_is_allowed("Skipped: /usr/bin/chromium is not installed")
    assert skip_is_allowed("Skipped: no gpu here", (r"^no gpu",))


def _run_pytest(tmp_path: Path, body: str, **env: str) -> subprocess.CompletedProcess[str]:
    tests = tmp_path / "tests"
    tests.mkdir(exist_ok=True)
    shutil.copy(ROOT / "tests" / "conftest.py", tests / "conftest.py")
    (tests / "__init__.py").write_text("")
    (tests / "test_sample.py").write_text(body)
    environment = {k: v for k, v in os.environ.items() if k != "SAYLAU_ALLOW_SKIPS"}
    environment.update(env)
    environment["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "-n", "0", "--rootdir", str(tmp_path), str(tests)],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)


def test_a_skipped_test_fails_the_run(tmp_path: Path) -> None:
    body = "import pytest\n\ndef test_ok():\n    pass\n\ndef test_gone():\n    pytest.skip('redis down')\n"
    result = _run_pytest(tmp_path, body)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "unexpected skips" in result.stdout and "redis down" in result.stdout
    allowed = _run_pytest(tmp_path, body, SAYLAU_ALLOW_SKIPS="1")
    assert allowed.returncode == 0, allowed.stdout
    assert "allowed by SAYLAU_ALLOW_SKIPS=1" in allowed.stdout


def test_xfail_and_passing_runs_are_not_skips(tmp_path: Path) -> None:
    body = ("import pytest\n\ndef test_ok():\n    pass\n\n"
            "@pytest.mark.xfail(strict=True)\ndef test_known():\n    assert False\n")
    result = _run_pytest(tmp_path, body)
    assert result.returncode == 0, result.stdout + result.stderr


def _bin_dir_without(tmp_path: Path, *hidden: str) -> str:
    """A PATH holding symlinks to every tool the guard uses except ``hidden``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "env", "node", "chromium", "psql", "pg_isready", "redis-cli", "python3",
                 "sed", "cut", "head", "cat", "timeout", "grep", "tr"):
        if tool in hidden:
            continue
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def _guard(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([shutil.which("bash") or "/bin/bash", str(GUARD)], env={"PATH": path},
                          capture_output=True, text=True, timeout=60)


def test_guard_passes_here() -> None:
    result = _guard(os.environ["PATH"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_guard_fails_without_chromium(tmp_path: Path) -> None:
    result = _guard(_bin_dir_without(tmp_path, "chromium"))
    assert result.returncode != 0
    assert "chromium" in result.stderr


def test_guard_fails_without_postgres_client(tmp_path: Path) -> None:
    result = _guard(_bin_dir_without(tmp_path, "psql", "pg_isready"))
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_guard_fails_without_node(tmp_path: Path) -> None:
    result = _guard(_bin_dir_without(tmp_path, "node"))
    assert result.returncode != 0
    assert "Node" in result.stderr
