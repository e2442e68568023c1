"""`labtui --watch latest` and `--watch NAME` resolve a run as every lab command does."""

import contextlib
import io
import os

import pytest

import lab_workbench.tui.app

from lab_workbench import tui
from lab_workbench.commands.labtui import main


class NoApp:
    return_code = 0
    abandoned = False

    def run(self):
        pass

    def farewell(self):
        return []


def labtui(args, tmp_path, monkeypatch):
    seen = {}

    def fake_make_app(cfg, start="form", watch=None, ansi=False):
        seen["watch"] = watch
        return NoApp()
    monkeypatch.setattr(tui.app, "make_app", fake_make_app)
    err = io.StringIO()
    with contextlib.chdir(tmp_path), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e:
        main(args)
    return e.value.code or 0, seen.get("watch"), err.getvalue()


def make_run(root, name, mtime):
    d = root / name
    d.mkdir(parents=True)
    (d / "config.json").write_text("{}")
    os.utime(d / "config.json", (mtime, mtime))
    return d


@pytest.mark.parametrize("ref,expected", [("latest", "new"), ("old", "old"), ("runs/old", "old")])
def test_watch_takes_latest_a_name_or_a_folder(tmp_path, monkeypatch, ref, expected):
    make_run(tmp_path / "runs", "old", 1_000_000)
    make_run(tmp_path / "runs", "new", 2_000_000)
    code, watch, _ = labtui(["--watch", ref], tmp_path, monkeypatch)
    assert code == 0 and watch.name == expected


def test_watch_of_an_unknown_run_is_one_line_and_exit_2(tmp_path, monkeypatch):
    (tmp_path / "runs").mkdir()
    code, watch, err = labtui(["--watch", "nope"], tmp_path, monkeypatch)
    assert code == 2 and watch is None and "--watch nope" in err and "Traceback" not in err
    code, _, err = labtui(["--watch", "latest"], tmp_path, monkeypatch)
    assert code == 2 and "no runs" in err
