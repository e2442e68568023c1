"""lab train --config FILE (YAML, TOML, a run's config.json) and --print-config; sweep and labtui take it too."""

import json

import pytest

from tests.helpers import lab_here


def printed(*args, cwd):
    r = lab_here("train", "--print-config", "--format", "json", *args, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_yaml_file_sets_values_and_flags_override_it(tmp_path):
    (tmp_path / "c.yaml").write_text("model: cnn\nchannels: [4, 8]\nlr: 1e-2\nepochs: 3\nbatchnorm: true\n")
    cfg = printed("--config", "c.yaml", "--epochs", "5", cwd=tmp_path)
    assert (cfg["model"], cfg["channels"], cfg["lr"], cfg["epochs"], cfg["batchnorm"]) == ("cnn", [4, 8], 0.01, 5,
                                                                                          True)


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_print_config_reads_back_to_the_same_config(tmp_path, fmt):
    r = lab_here("train", "--print-config", "--format", fmt, "-m", "cnn", "-K", "8,16", "--lr", "0.02",
                 "--patience", "3", "--augment", "shift", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (tmp_path / f"c.{fmt}").write_text(r.stdout)
    want = printed("-m", "cnn", "-K", "8,16", "--lr", "0.02", "--patience", "3", "--augment", "shift", cwd=tmp_path)
    assert printed("--config", f"c.{fmt}", cwd=tmp_path) == want
    assert want["lr"] == 0.02 and want["patience"] == 3


@pytest.mark.parametrize("text, name, expected", [
    ("lrr = 0.1\n", "c.toml", "c.toml: unknown key 'lrr' (did you mean 'lr'?)"),
    ("epochs = 1.5\n", "c.toml", "c.toml: key 'epochs': expected an integer, got 1.5"),
    ("lr: abc\n", "c.yaml", "c.yaml: key 'lr': expected a finite number, got 'abc'"),
    ("lr: -1\n", "c.yaml", "c.yaml: key 'lr': expected a positive number, got -1"),
    ("optimizer: adamm\n", "c.yaml", "c.yaml: key 'optimizer': expected one of"),
    ("hidden: [0]\n", "c.yml", "c.yml: key 'hidden': expected a comma-separated list of positive integers"),
    ("lr: [1\n", "c.yaml", "--config c.yaml: not valid YAML"),
    ("- 1\n", "c.yaml", "--config c.yaml: expected a mapping of settings"),
    ("lr = 1\n", "c.ini", "--config c.ini: expected a .yaml, .yml, .toml or .json file"),
])
def test_bad_file_is_one_line_naming_file_and_key(tmp_path, text, name, expected):
    (tmp_path / name).write_text(text)
    r = lab_here("train", "--config", name, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith(f"error: {expected}"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_missing_file_is_one_line(tmp_path):
    r = lab_here("train", "--config", "nope.yaml", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: --config nope.yaml: cannot read")


def test_run_config_json_reproduces_the_run(tmp_path):
    r = lab_here("train", "-e", "1", "--subset", "200", "-H", "16", "--lr", "0.01", "--seed", "3", "--name", "x",
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = lab_here("train", "--config", "runs/x/config.json", "--name", "x2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    first, second = (json.loads((tmp_path / "runs" / n / "config.json").read_text())["config"] for n in ("x", "x2"))
    assert {**first, "name": "x2"} == second
    rows = [(tmp_path / "runs" / n / "metrics.csv").read_text().splitlines()[1].split(",")[:5] for n in ("x", "x2")]
    assert rows[0] == rows[1]  # same seed, same config: the same first epoch


def test_sweep_takes_config(tmp_path):
    (tmp_path / "c.yaml").write_text("epochs: 1\nsubset: 100\nhidden: [8]\nlr: abc\n")
    r = lab_here("sweep", "s", "--grid", "seed=0,1", "--config", "c.yaml", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: c.yaml: key 'lr'"), r.stderr
    (tmp_path / "c.yaml").write_text("epochs: 1\nsubset: 100\nhidden: [8]\n")
    r = lab_here("sweep", "s", "--grid", "seed=0,1", "--config", "c.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for point in ("seed=0", "seed=1"):
        cfg = json.loads((tmp_path / "runs" / "s" / point / "config.json").read_text())["config"]
        assert (cfg["epochs"], cfg["subset"], cfg["hidden"]) == (1, 100, [8])


def test_labtui_form_starts_from_the_config_file(tmp_path, monkeypatch):
    import lab_workbench.tui.app
    from lab_workbench import tui
    from lab_workbench.commands.labtui import main
    seen = {}

    class App:
        return_code = 0

        def run(self):
            pass

        def farewell(self):  # labtui prints it on leaving (main's quick-stop change)
            return []

    def fake_make_app(cfg, **kw):
        seen["cfg"] = cfg
        return App()
    monkeypatch.setattr(tui.app, "make_app", fake_make_app)
    (tmp_path / "c.toml").write_text('model = "cnn"\nlr = 0.05\nepochs = 4\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["--config", "c.toml", "--epochs", "2"])
    assert e.value.code == 0
    assert (seen["cfg"].model, seen["cfg"].lr, seen["cfg"].epochs) == ("cnn", 0.05, 2)
