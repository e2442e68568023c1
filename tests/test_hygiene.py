import subprocess
import sys

from conftest import ROOT

UI_MODULES = ("typer", "textual", "plotext", "rich")


def test_engine_imports_no_ui_library():
    code = ("import sys, engine, engine.config, engine.data, engine.models, engine.evaluation, "
            "engine.training.trainer, engine.training.checkpoint, engine.training.runs; "
            "from engine import train, TrainConfig, create_model; "
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
    code = "import sys; from commands.app import app; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.stdout.strip() == "False", r.stderr
