"""Snapshots of the main screens at 80x24 with deterministic data (fake trainer, fixed clock).

Regenerate after an intended change of the layout: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from lab_workbench.engine.settings.config import TrainConfig
from tests.tui.fake import fake_train
from tests.tui.pilot import finished, make_run, on_tab, wait_for
from lab_workbench.tui.app import make_app
from lab_workbench.tui.screens.run import RunScreen


def app_for(**kw):
    return make_app(TrainConfig(epochs=3, **kw), trainer=fake_train, clock=lambda: 0.0)


def test_form(snap_compare):
    assert snap_compare(app_for(dataset="fashion", dropout=0.4), terminal_size=(80, 24))


def test_run_epochs(snap_compare):
    assert snap_compare(app_for(), terminal_size=(80, 24), run_before=finished)


def test_run_curves(snap_compare):
    assert snap_compare(app_for(), terminal_size=(80, 24), run_before=on_tab("2"))


def test_run_confusion(snap_compare):
    assert snap_compare(app_for(), terminal_size=(80, 24), run_before=on_tab("3"))


def test_runs_browser(snap_compare, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_run(tmp_path / "runs", "alpha", [0.5, 0.7, 0.9])
    make_run(tmp_path / "runs", "beta", [0.6, 0.65], status="cancelled")
    import os
    os.utime(tmp_path / "runs" / "alpha" / "config.json", (1, 1))  # a fixed order: beta is newer
    os.utime(tmp_path / "runs" / "beta" / "config.json", (2, 2))
    assert snap_compare(make_app(TrainConfig(), start="runs", clock=lambda: 0.0), terminal_size=(80, 24))


async def test_resizes_cleanly():
    from lab_workbench.tui.widgets.curve_plot import CurvePlot
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot)
        await pilot.press("2")
        for size in ((160, 48), (60, 20), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            plots = list(app.screen.query(CurvePlot))
            assert app.screen.size.width == size[0]
            assert all(0 < p.size.width <= size[0] // 2 + 1 for p in plots)


def test_form_16_colours(snap_compare):
    """A 16-colour terminal (labtui picks Textual's ANSI theme there): the focused button still shows."""
    app = make_app(TrainConfig(epochs=3), trainer=fake_train, clock=lambda: 0.0, ansi=True)
    assert snap_compare(app, terminal_size=(80, 24))


def test_run_confusion_16_colours(snap_compare):
    app = make_app(TrainConfig(epochs=3), trainer=fake_train, clock=lambda: 0.0, ansi=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_tab("3"))


def test_form_no_color(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(app_for(), terminal_size=(80, 24))


def test_run_confusion_no_color(snap_compare, monkeypatch):
    """Under NO_COLOR the errors of the confusion matrix are reverse video, the best epoch too."""
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(app_for(), terminal_size=(80, 24), run_before=on_tab("3"))


def live_train(cfg, on_event=None, should_stop=None, **_):
    """One epoch done, the second at batch 7 of 20: then it waits (at most 5 s) to be cancelled."""
    import time
    from lab_workbench.engine.contract.events import BatchEnded, EpochEnded, History, RunEnded, RunStarted
    on_event(RunStarted(cfg.to_dict(), "runs/live", 123456789, "cuda:0", {"classes": ["cat", "dog"]}))
    on_event(EpochEnded(1, cfg.epochs, 0.71, 0.70, 0.69, 0.71, 1e-3, 12.5, [[5, 1], [2, 6]], True))
    on_event(BatchEnded(2, 7, 20, 0.4321))
    for _ in range(50):
        if should_stop():
            break
        time.sleep(0.1)
    history = History(status="cancelled", run_dir="runs/live")
    on_event(RunEnded("cancelled", history, {}))
    return history


def test_live_run_shows_eta_and_batch_loss_at_80_columns(snap_compare):
    app = make_app(TrainConfig(epochs=30), trainer=live_train, clock=lambda: 0.0)

    async def running(pilot):
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunScreen)
                       and "batch loss" in str(pilot.app.screen.query_one("#status").render()))
        await pilot.pause()
    assert snap_compare(app, terminal_size=(80, 24), run_before=running)
