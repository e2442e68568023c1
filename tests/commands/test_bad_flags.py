"""The bad flags and config files of every command (tests/commands/bad_flag_cases.py), refused before torch
is imported: all of them run in one `python -m tests.commands.torchless` process where torch cannot load,
and each must be exit code 2 and one `error:` line naming the flag or file, with torch never asked for.

One process for hundreds of cases keeps the table cheap (no 3-second torch start per case)."""

import json
import os
import subprocess
import sys

import pytest

from tests.commands.bad_flag_cases import FLAG_CASES, make_flag_files
from tests.helpers import ROOT, lab_env


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """{case id: {code, err, torch}} of every case, run in one torch-less process in a folder of bad files."""
    d = tmp_path_factory.mktemp("flags")
    make_flag_files(d)
    by_env = {}
    for case in FLAG_CASES:
        env = case[3] if len(case) > 3 else {}
        by_env.setdefault(json.dumps(env, sort_keys=True), []).append(case)
    results = {}
    for env_text, cases in by_env.items():
        env = {k: v.format(d=d) for k, v in json.loads(env_text).items()}
        if "PYTHONPATH" in env:  # a plugin beside the cases, and this tree
            env["PYTHONPATH"] += os.pathsep + str(ROOT)
        argv = [[a.format(d=d) for a in c[1]] for c in cases]
        done = subprocess.run([sys.executable, "-m", "tests.commands.torchless"], input=json.dumps(argv), cwd=d,
                              capture_output=True, text=True, timeout=300, env=lab_env(**env))
        assert done.returncode == 0, done.stderr
        results.update({c[0]: {**r, "expected": c[2].format(d=d)} for c, r in zip(cases, json.loads(done.stdout))})
    return results


@pytest.mark.parametrize("case_id", [c[0] for c in FLAG_CASES])
def test_bad_flag_is_one_line_before_torch(outcomes, case_id):
    got = outcomes[case_id]
    lines = got["err"].strip().splitlines()
    assert "Traceback" not in got["err"], got["err"]
    assert not got["torch"], f"torch was imported before the error: {got['err']}"
    assert got["code"] == 2, got
    assert len(lines) == 1 and lines[0].startswith("error: ") and got["expected"] in lines[0], got["err"]


def test_the_table_is_large_and_its_ids_unique():
    from tests.commands.test_bad_inputs import CASES
    ids = [c[0] for c in FLAG_CASES + CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 300


def test_the_blocker_catches_a_torch_import(tmp_path):
    """The check can fail: a command line that does need torch (a real training run) is caught importing it."""
    done = subprocess.run([sys.executable, "-m", "tests.commands.torchless"], input=json.dumps([["train", "--epochs",
                          "1"]]), cwd=tmp_path, capture_output=True, text=True, timeout=120, env=lab_env())
    assert json.loads(done.stdout)[0]["torch"] is True, done.stderr


def test_the_torch_free_model_option_check_agrees_with_the_builders():
    """lab_workbench.engine.models.catalog.check_builtin_options refuses exactly what create_model(strict=True) refuses."""
    from lab_workbench.engine.models.catalog import DEFAULTS
    from lab_workbench.engine.models.factory import accepted_options
    for name in DEFAULTS:
        assert sorted([*DEFAULTS[name], "init"]) == sorted(accepted_options(name)), name
