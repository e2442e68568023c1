"""An option that several commands take and that is a TrainConfig field (--data-dir, --images-key, --device,
--threads...) is declared once, by the field: every command refuses a bad value with the same one line as
`lab train`, before torch is imported."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, lab_env

# flag, a bad value, the commands (besides `lab train`) that take the flag, with the arguments they need
SHARED = [
    ("--data-dir", "", [["data", "digits"], ["convert", "digits", "new.h5"], ["eval", "latest"]]),
    ("--images-key", " ", [["data", "digits"], ["convert", "digits", "new.h5"], ["predict", "latest", "x.png"]]),
    ("--labels-key", "", [["data", "digits"], ["convert", "digits", "new.h5"]]),
    ("--data-memory", "lots", [["data", "digits"]]),
    ("--device", "tpu", [["eval", "latest"], ["predict", "latest", "x.png"]]),
    ("--threads", "0", [["convert", "digits", "new.h5"]]),
    ("--threads", "many", [["convert", "digits", "new.h5"]]),
    ("--runs-dir", "", [["runs"], ["eval", "latest"], ["compare", "latest"]]),
]


@pytest.fixture(scope="module")
def errors(tmp_path_factory):
    """{(flag, value): [(command, its stderr)]}, every command line run in one torch-less process."""
    lines, keys = [], []
    for flag, value, commands in SHARED:
        for args in [["train"], *commands]:
            lines.append([*args, flag, value])
            keys.append((flag, value, args[0]))
    done = subprocess.run([sys.executable, "-m", "tests.commands.torchless"], input=json.dumps(lines),
                          cwd=tmp_path_factory.mktemp("shared"), capture_output=True, text=True, timeout=300,
                          env=lab_env())
    assert done.returncode == 0, done.stderr
    out: dict = {}
    for (flag, value, command), got in zip(keys, json.loads(done.stdout)):
        assert got["code"] == 2 and not got["torch"], (command, flag, got)
        out.setdefault((flag, value), []).append((command, got["err"].strip()))
    return out


@pytest.mark.parametrize("flag,value", [(f, v) for f, v, _ in SHARED])
def test_every_command_refuses_a_bad_value_in_the_words_of_lab_train(errors, flag, value):
    (_, train), *others = errors[(flag, value)]
    assert train.startswith(f"error: {flag}: expected") and len(train.splitlines()) == 1, train
    for command, err in others:
        assert err == train, f"lab {command} {flag} {value!r}: {err!r}, lab train: {train!r}"


def test_no_command_declares_a_train_field_s_flag_again():
    """commands/*.py take a TrainConfig field's flag through setting_option, never with a typer.Option of
    their own; the exceptions are flags that mean something else there (eval's --dataset is the data to
    evaluate on; data's --samples counts images shown)."""
    from lab_workbench.engine.settings.config import settings
    flags = {s.flag for s in settings()}
    other_meaning = {("eval.py", "--dataset"), ("eval.py", "--data"), ("eval.py", "--classes"),
                     ("data.py", "--samples")}
    again = []
    for path in sorted((ROOT / "commands").glob("*.py")):
        for flag in re.findall(r'typer\.Option\([^)]*?"(--[a-z0-9-]+)"', path.read_text(), re.S):
            if flag in flags and (path.name, flag) not in other_meaning:
                again.append(f"{path.name}: {flag}")
    assert again == []


def test_the_flag_spelling_has_one_home():
    """`"--" + name.replace("_", "-")` is written once, in engine.core.errors.flag_of."""
    pattern = re.compile(r'"--"\s*\+\s*[^\n]*replace\("_", "-"\)')
    homes = [str(p.relative_to(ROOT)) for top in ("engine", "commands", "tui") for p in (ROOT / top).rglob("*.py")
             if pattern.search(p.read_text())]
    assert homes == [str(Path("engine") / "core" / "errors.py")]
