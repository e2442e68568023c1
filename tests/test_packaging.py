"""Installed, the repository's engine/, commands/ and tui/ live under one namespace (pyproject's package-dir)."""

import os
import subprocess
import sys
import tomllib
from importlib.metadata import distribution

from tests.helpers import ROOT

NS = "lab_workbench"


def test_every_package_folder_is_installed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {f"{NS}." + ".".join(p.parent.relative_to(ROOT).parts)
               for top in ("engine", "commands", "tui") for p in (ROOT / top).rglob("__init__.py")}
    assert on_disk == listed, f"add to pyproject's packages: {sorted(on_disk - listed)}; gone: {sorted(listed - on_disk)}"


def test_generic_names_outside_the_repository_are_not_this_project(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = ("import importlib.util as u, sys; import lab_workbench.engine, lab_workbench.commands, lab_workbench.tui; "
            "print([n for n in ('engine', 'commands', 'tui') if u.find_spec(n) is not None])")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr


def test_the_distribution_is_not_called_lab():
    dist = distribution("lab-workbench")
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts == {"lab": f"{NS}.commands.app:main", "labtui": f"{NS}.commands.labtui:main"}
