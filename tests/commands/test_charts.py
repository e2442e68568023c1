"""Terminal charts (issue 24): a marker and colour per series, legends above the plot, titles, the terminal's
background, honest histograms, and config values shown as flags take them."""

import json

import pytest

from lab_workbench.commands.plots import STYLES, histogram_chart, legend, line_chart
from tests.helpers import fake_run, lab_here


def test_each_series_has_its_own_marker_and_the_legend_is_above_the_plot(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    text = line_chart({"train": [1.0, 0.5, 0.3, 0.2], "val": [1.1, 0.7, 0.6, 0.55]}, "loss", width=60, height=10,
                      x=[1, 2, 3, 4])
    lines = text.splitlines()
    assert lines[0].strip() == "loss" and lines[1] == "⠒⠒ train   •• val" and lines[2].lstrip().startswith("┌")
    plot = "\n".join(lines[3:])
    assert "•" in plot and any(ch in plot for ch in "⠉⠒⠤⣀")  # both series drawn, each in its own marker
    assert "train" not in plot and "val" not in plot  # no legend inside the frame
    assert len({m for m, _, _ in STYLES}) == len(STYLES) and len({c for _, c, _ in STYLES}) == len(STYLES)


def test_colours_are_per_series_on_the_terminal_default_background(monkeypatch):
    import plotext as plt
    monkeypatch.setattr("lab_workbench.commands.plots.use_color", lambda stream=None: True)
    text = line_chart({"a": [1, 2, 3], "b": [3, 2, 1]}, "t", width=40, height=8)
    codes = set(__import__("re").findall(r"\x1b\[([0-9;]*)m", text))
    assert not any(c.startswith("48;") or c in ("47", "107") for c in codes)  # no painted background
    a, b = (plt.colorize("x", STYLES[i][1]) for i in range(2))
    assert a != b and a.split("x")[0] in text and b.split("x")[0] in text


def test_a_legend_wraps_to_the_width():
    assert legend(["first-run", "second-run", "third-run"], 30) == ["⠒⠒ first-run   •• second-run", "++ third-run"]


def test_histograms_leave_empty_bins_empty_and_show_small_counts_small():
    counts = [0, 0, 1, 0, 1000, 0, 0, 0]
    lines = histogram_chart(counts, [i / 8 for i in range(9)], "values", width=40, height=8).splitlines()
    assert lines[0].strip() == "values"
    bottom = lines[-3].split("┤")[1]  # the lowest row of bars
    assert set(bottom) <= {" ", "▁", "█"} and bottom.count("█") == bottom.count("▁") > 0
    assert lines[-2].strip().startswith("0└") and lines[-1].split() == ["0", "0.25", "0.5", "0.75", "1"]
    logged = histogram_chart([0, 1, 0, 99], [0, 1, 2, 3, 4], "log", width=30, height=6, log=True).splitlines()
    assert "▄" in logged[-3] or "▅" in logged[-3] or "▃" in logged[-3]  # log10(2) is a sixth of log10(100)


def test_compare_titles_its_charts_labels_zero_and_shows_values_as_flags(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    for i, l2 in enumerate([0, 1e-4, 1e-2]):
        d = fake_run(runs, f"l2-{i}", "mlp", "digits", [0.8, 0.9 - l2], 0.9)
        cfg = json.loads((d / "config.json").read_text())
        cfg["config"].update(l2=l2, hidden=None if i == 0 else [32, 32], nesterov=False)
        (d / "config.json").write_text(json.dumps(cfg))
    monkeypatch.setenv("COLUMNS", "80")
    r = lab_here("compare", "l2-0", "l2-1", "l2-2", "--runs-dir", runs, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["run", "hidden", "l2"] and lines[2].split()[:3] == ["l2-0", "256,128", "0"]
    assert lines[3].split()[:3] == ["l2-1", "32,32", "0.0001"] and "None" not in r.stdout
    assert max(map(len, lines)) <= 80
    # two fields differ: no chart against one field; with one, the chart is titled and says where 0 went
    assert "val_acc (%) per epoch" in r.stdout and "⠒⠒ l2-0   •• l2-1   ++ l2-2" in r.stdout
    for i in (1, 2):
        d = runs / f"l2-{i}"
        cfg = json.loads((d / "config.json").read_text())
        cfg["config"]["hidden"] = None
        (d / "config.json").write_text(json.dumps(cfg))
    out = lab_here("compare", "l2-0", "l2-1", "l2-2", "--runs-dir", runs, cwd=tmp_path).stdout
    assert "final val_acc against l2 (log x)" in out and "l2=0 is drawn at 1e-05" in out
    ticks = [line for line in out.splitlines() if "0.0001" in line and "0.01" in line][-1]
    assert ticks.split() == ["0", "0.0001", "0.01"]


@pytest.mark.parametrize("name,value,config,shown", [
    ("hidden", [32, 32], {}, "32,32"), ("hidden", None, {"model": "mlp"}, "256,128"),
    ("channels", None, {"model": "cnn"}, "32,64"), ("channels", None, {"model": "mlp"}, "-"),
    ("nesterov", False, {}, "off"), ("batchnorm", None, {"model": "cnn"}, "on"), ("clip_grad", None, {}, "off"),
    ("threads", None, {}, "auto"), ("lr", 0.001, {}, "0.001"), ("hidden", None, {"model": "plugin"}, "model default"),
])
def test_flag_values(name, value, config, shown):
    from lab_workbench.engine.settings.config import flag_value
    assert flag_value(name, value, config) == shown


def test_the_model_defaults_table_matches_the_builders():
    from lab_workbench.engine.models.catalog import DEFAULTS
    from lab_workbench.engine.models import create_model
    for model, defaults in DEFAULTS.items():
        implicit = create_model(model, (1, 8, 8), 3)
        explicit = create_model(model, (1, 8, 8), 3, **defaults)
        assert str(implicit) == str(explicit), model
