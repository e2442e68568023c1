"""No lab process imports code from the folder it runs in (issue 32.1): a hostile `commands/`, `engine/`,
`tui/`, `typer.py` and `torch.py` in the working folder are never imported, by lab itself (started as the
installed entry point starts it) nor by the processes it starts (a sweep's points)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import lab_env

HOSTILE = ["commands/__init__.py", "commands/__main__.py", "engine/__init__.py", "tui/__init__.py",
           "typer.py", "torch.py"]


def entry_point() -> list[str]:
    """`lab` as a user runs it: the installed script (its own folder first on the path), else `python -P`."""
    script = Path(sys.executable).parent / "lab"
    return [str(script)] if script.is_file() else [sys.executable, "-P", "-m", "lab_workbench.commands"]


def hostile_folder(folder: Path) -> Path:
    """Plant modules that record their import in PWNED and exit 97."""
    marker = folder / "PWNED"
    for rel in HOSTILE:
        f = folder / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(f"open({str(marker)!r}, 'a').write({rel!r} + '\\n')\nraise SystemExit(97)\n")
    return marker


@pytest.fixture(scope="module")
def folder(tmp_path_factory, trained_runs):
    """A hostile working folder with a trained run (runs/good) and a .npy input in it."""
    home = tmp_path_factory.mktemp("hostile")
    trained_runs.get("small", into=home)
    np.save(home / "x.npy", np.zeros((2, 8, 8), dtype=np.uint8))
    return home


COMMANDS = {
    "train": ["train", "-e", "1", "--subset", "100", "--name", "t"],
    "eval": ["eval", "runs/good"],
    "export": ["export", "runs/good", "--format", "safetensors", "--out", "m.safetensors"],
    "inspect-weights": ["inspect-weights", "runs/good"],
    "predict": ["predict", "runs/good", "x.npy"],
    "runs": ["runs"],
    "compare": ["compare", "runs/good"],
    "models": ["models"],
    "data": ["data", "digits"],
    "convert": ["convert", "digits", "d.h5"],
    "lr-find": ["lr-find", "--steps", "10", "--subset", "100"],
    "sweep": ["sweep", "s", "--grid", "l2=0,1e-3", "-e", "1", "--subset", "100"],
    "sweep-search": ["sweep", "q", "--search", "random", "--trials", "1", "--param", "lr=1e-3,1e-2", "-e", "1",
                     "--subset", "100"],  # its workers are processes lab starts too
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_command_imports_code_from_the_working_folder(folder, name):
    if name == "sweep-search":
        pytest.importorskip("optuna")
    marker = hostile_folder(folder)
    r = subprocess.run([*entry_point(), *COMMANDS[name]], cwd=folder, capture_output=True, text=True,
                       timeout=300, env=lab_env())
    assert not marker.exists(), f"imported from the working folder: {marker.read_text()}"
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    if name == "sweep":  # each point ran lab's own `lab train`
        summary = json.loads((folder / "runs" / "s" / "summary.json").read_text())
        assert [p["status"] for p in summary] == ["completed", "completed"]


def test_the_python_3_10_form_of_a_child_command_leaves_the_working_folder_off_the_path(folder):
    from lab_workbench.commands.child import _NO_CWD
    marker = hostile_folder(folder)
    r = subprocess.run([sys.executable, "-c", _NO_CWD, "models"], cwd=folder, capture_output=True, text=True,
                       timeout=120, env=lab_env())
    assert not marker.exists(), f"imported from the working folder: {marker.read_text()}"
    assert r.returncode == 0 and "mlp" in r.stdout, r.stderr
