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


GRAPH_PACKAGES = ("crypto", "tally", "audit", "app", "saylau", "bench")


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and (
        (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING"))


def _imports(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """The project modules named by any import anywhere in the file (functions included),
    except ``if TYPE_CHECKING:`` blocks (never executed); relative imports resolved.
    ``from pkg import name`` is an import of ``pkg.name`` when that is a module, else of ``pkg``."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if _is_type_checking_block(node):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found & modules


def module_graph() -> dict[str, set[str]]:
    """Edges ``importer -> imported`` between the project's own modules."""
    files = {p: _module_name(p) for pkg in GRAPH_PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    modules = set(files.values())
    graph: dict[str, set[str]] = {}
    for path, name in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[name] = _imports(tree, name, path.name == "__init__.py", modules) - {name}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def strongconnect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return cycles


def test_no_import_cycles_even_inside_functions():
    assert find_cycles(module_graph()) == []


def test_find_cycles_sees_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_web_app_never_imports_the_command_line_client():
    offenders = sorted(f"{m} -> {t}" for m, targets in module_graph().items()
                       if m.split(".")[0] == "app" for t in targets if t.split(".")[0] == "saylau")
    assert offenders == []


def test_the_graph_sees_imports_inside_functions():
    graph = module_graph()
    assert "app.petitions.api" in graph["app"]  # create_app imports its blueprints lazily
