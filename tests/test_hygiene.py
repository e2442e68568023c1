import subprocess
import sys

import pytest

from tests.helpers import ROOT

UI_MODULES = ("typer", "textual", "plotext", "rich")
NS = "lab_workbench"  # the installed namespace of engine, commands and tui (pyproject's package-dir)


def test_engine_imports_no_ui_library():
    code = ("import sys, lab_workbench.engine, lab_workbench.engine.settings.config, lab_workbench.engine.data, "
            "lab_workbench.engine.models, lab_workbench.engine.evaluation.metrics, "
            "lab_workbench.engine.training.trainer, lab_workbench.engine.runs.checkpoint, "
            "lab_workbench.engine.runs.listing; from lab_workbench.engine import train, TrainConfig, create_model; "
            f"bad = [m for m in {UI_MODULES!r} if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_engine_sources_never_mention_ui_imports():
    for path in (ROOT / "engine").rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.strip().split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                assert words[1].split(".")[0] not in UI_MODULES, f"{path}: {line}"


def test_lab_help_does_not_import_torch():
    code = "import sys; from lab_workbench.commands.app import app; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.stdout.strip() == "False", r.stderr


def _module(name: str) -> str:
    """A module's name in the repository: lab_workbench.engine.x is engine.x."""
    return name.removeprefix(NS + ".")


def _imports(path, package_root):
    """The engine modules a file imports (absolute and relative, at any depth in the file)."""
    import ast
    rel = path.relative_to(package_root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    here = parts if path.name == "__init__.py" else parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = (here[: len(here) - node.level + 1] if node.level else []) + (node.module or "").split(".")
            base = _module(".".join(p for p in base if p)).split(".")
            if node.level == 0 and base[:1] != [package_root.name]:
                continue
            # `from . import x` names modules; `from .mod import name` names one module
            names = [".".join(base + [a.name]) for a in node.names] if node.module is None else [".".join(base)]
            found.update(names)
        elif isinstance(node, ast.Import):
            found.update(_module(a.name) for a in node.names if _module(a.name).split(".")[0] == package_root.name)
    return found


def _import_cycles(package: str) -> list:
    """Import cycles between the modules of a package (its relative and absolute imports of itself)."""
    root = ROOT / package
    modules = {}
    for path in root.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.parts[-1] == "__init__" else rel.parts)
        modules[name] = path
    # a package import is an import of its __init__; edges into a package's own __init__ from inside are
    # how registration works (models/__init__ imports its families), so edges go module -> module only
    graph = {m: {d for d in _imports(p, root) if d in modules and d != m and not m.startswith(d + ".")}
             for m, p in modules.items()}
    for m in graph:
        graph[m] -= {d for d in graph[m] if d == package}
    seen, stack, cycles = set(), [], []

    def visit(m):
        if m in stack:
            cycles.append(stack[stack.index(m):] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for d in sorted(graph[m]):
            visit(d)
        stack.pop()
    for m in sorted(graph):
        visit(m)
    return cycles


def test_engine_has_no_import_cycles():
    assert not _import_cycles("engine")


def test_commands_have_no_import_cycles():
    assert not _import_cycles("commands")  # compare and png imported each other


def test_tui_does_not_import_commands():
    for path in (ROOT / "tui").rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.strip().split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                assert _module(words[1]).split(".")[0] != "commands", f"{path}: {line}"


@pytest.mark.parametrize("package, limit", [("engine", 60), ("commands", 50), ("tui", 50)])
def test_functions_fit_on_a_screen(package, limit):
    """The engine's functions stay under 60 lines, the faces' under 50: longer ones get split into named steps."""
    import ast
    long = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= limit:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not long, long
