"""Project-wide rules: one-way imports, lazy CLI, docs assembled from their sections."""

import ast
import pathlib
import subprocess
import sys

import pytest

from saylau.cli import COMMANDS, main

ROOT = pathlib.Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "crypto": {"flask", "sqlalchemy", "alembic", "app", "tally", "audit", "saylau"},
    "tally": {"flask", "sqlalchemy", "alembic", "app", "audit"},
    "audit": {"flask", "sqlalchemy", "alembic", "app"},
}


def imported_roots(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_go_one_way(package):
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        bad = imported_roots(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert offenders == []


def test_help_lists_every_subcommand(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err
    assert main([]) == 2


def test_every_registered_subcommand_module_exists():
    for name, (module, _) in COMMANDS.items():
        path = ROOT / (module.replace(".", "/") + ".py")
        assert path.exists(), f"saylau {name}: {path} missing"


def test_help_does_not_import_the_web_stack():
    code = ("import sys; from saylau.cli import main; main(['--help']); "
            "print(sorted(m for m in ('flask','sqlalchemy','app') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True).stdout
    assert out.strip().endswith("[]")


def test_protocol_md_is_assembled_from_its_sections():
    before = (ROOT / "docs" / "protocol.md").read_text()
    sections = sorted((ROOT / "docs" / "sections").glob("*.md"))
    for section in sections:
        assert section.read_text().rstrip() in before, f"{section.name} changed: run docs/build_protocol.py"
