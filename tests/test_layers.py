"""Inside the engine, a module imports only from its own layer or the layers below: the contract (errors,
values, events, the run result, statuses, recipes) sits at the bottom, the training loop and the artifacts
on top. An import that points up (at module level or inside a function) fails here with its file and line."""

import ast

from tests.helpers import ROOT

NS = "lab_workbench."
# lowest first; a unit is a module at engine's root or a subpackage
LAYERS = [
    {"core", "contract"},
    {"runtime"},
    {"data", "models", "evaluation"},
    {"settings"},
    {"runs", "trackers"},
    {"launch"},
    {"training"},
    {"artifacts"},
    {"__init__"},
]
LAYER = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def _unit(parts: list[str]) -> str:
    """The root module or subpackage x that a module engine.x.y belongs to."""
    return parts[1] if len(parts) > 1 else "__init__"


def _upward_imports() -> list[str]:
    found = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        rel = list(path.relative_to(ROOT).with_suffix("").parts)
        here = _unit(rel if rel[-1] != "__init__" or len(rel) > 2 else rel[:1])
        assert here in LAYER, f"{path.relative_to(ROOT)}: put '{here}' in a layer of tests/test_layers.py"
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith(NS + "engine"):
                parts = node.module.removeprefix(NS).split(".")
                targets = [[*parts, a.name] for a in node.names] if len(parts) == 1 else [parts]
            elif isinstance(node, ast.Import):
                targets = [a.name.removeprefix(NS).split(".") for a in node.names if a.name.startswith(NS + "engine")]
            assert not (isinstance(node, ast.ImportFrom) and node.level), f"{path}: use absolute imports"
            for parts in targets:
                there = _unit(parts)
                if there in LAYER and LAYER[there] > LAYER[here]:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {here} (layer {LAYER[here]}) imports "
                                 f"{'.'.join(parts)} (layer {LAYER[there]})")
    return found


def test_no_engine_module_imports_from_a_higher_layer():
    assert _upward_imports() == []


def test_every_engine_unit_has_a_layer():
    units = {p.stem if p.is_file() else p.name for p in (ROOT / "engine").iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file())}
    assert units - {"__init__"} <= set(LAYER), sorted(units - set(LAYER))


def test_the_engines_root_holds_only_its_public_api():
    """Every module belongs to a concern (core, contract, settings, launch, data, ...), none lies loose."""
    assert sorted(p.name for p in (ROOT / "engine").glob("*.py")) == ["__init__.py"]
