"""A stop (signal, cancel, time limit) is quick: it checkpoints at this batch and never waits for a whole
evaluation; a stop during validation or the test score resumes to the run that never stopped."""

from functools import partial

import pytest

from lab_workbench.engine import train
from lab_workbench.engine.runs import RunFolder, read_metrics
from lab_workbench.engine.training.trainer import resume_config
from tests import helpers
from tests.engine.test_resume import assert_same_run


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """1,200 test and 1,200 validation images: three evaluation batches each, so each is polled twice."""
    folder = tmp_path_factory.mktemp("quick")
    x, y = helpers.make_images(2400, classes=3)
    tx, ty = helpers.make_images(1200, classes=3, seed=1)
    return helpers.write_h5(folder / "d.h5", x, y, test=(tx, ty))


def config(tmp_path, data, **kw):
    base = dict(subset=None, val_split=0.5, epochs=2, batch_size=200, model="mlp", hidden=[16])
    return helpers.cfg(tmp_path, data=data, **{**base, **kw})


def stop_in(phase: str, events: list):
    """should_stop that answers 'interrupted' once the run has entered `phase` (validating or testing)."""
    def should_stop():
        seen = [e for e in events if type(e).__name__ == "PhaseChanged" and e.phase == phase]
        return "interrupted" if seen else None
    return should_stop


def test_a_stop_mid_epoch_skips_the_test_score(tmp_path, data):
    polls = iter([None] * 9)  # 6 batches an epoch: the stop comes in epoch 2, when epoch 1 is the best
    h = train(config(tmp_path, data), should_stop=lambda: next(polls, "interrupted"))
    results = RunFolder(h.run_dir).read_results()
    assert h.status == "interrupted" and results["status"] == "interrupted"
    assert len(h.rows) == 1 and results["test"] == {} and h.test_acc is None


def test_a_stop_during_validation_resumes_to_the_run_that_never_stopped(tmp_path, data):
    c = config(tmp_path, data)
    full = train(c.replace(name="full"))
    events = []
    stopped = train(c.replace(name="stopped"), on_event=events.append, should_stop=stop_in("validating", events))
    assert stopped.status == "interrupted" and stopped.rows == []  # epoch 1's row waits for its validation
    validating = [e for e in events if type(e).__name__ == "PhaseChanged" and e.phase == "validating"]
    assert validating and validating[-1].done < validating[-1].total  # it left the validation half-way
    c2, run_dir = resume_config(stopped.run_dir, runs_dir=c.runs_dir)
    resumed = train(c2, resume=run_dir)
    assert resumed.status == "completed"
    assert_same_run(full.run_dir, resumed.run_dir)
    assert resumed.test_acc == full.test_acc


def test_a_stop_during_the_test_score_is_interrupted_and_a_resume_scores_it(tmp_path, data):
    c = config(tmp_path, data)
    events = []
    stopped = train(c, on_event=events.append, should_stop=stop_in("testing", events))
    assert stopped.status == "interrupted" and len(stopped.rows) == 2 and stopped.test_acc is None
    assert RunFolder(stopped.run_dir).read_results()["test"] == {}
    c2, run_dir = resume_config(stopped.run_dir, runs_dir=c.runs_dir)
    resumed = train(c2, resume=run_dir)
    assert resumed.status == "completed" and resumed.test_acc is not None
    assert [r["epoch"] for r in read_metrics(run_dir / "metrics.csv")] == [1, 2]  # nothing trained twice


def test_a_stop_during_the_test_score_of_an_early_stop_resumes_to_its_score(tmp_path, data):
    c = config(tmp_path, data, epochs=40, patience=1, lr=1.0)
    events = []
    stopped = train(c, on_event=events.append, should_stop=stop_in("testing", events))
    assert stopped.status == "interrupted" and len(stopped.rows) < 40
    c2, run_dir = resume_config(stopped.run_dir, runs_dir=c.runs_dir)
    resumed = train(c2, resume=run_dir)
    assert resumed.status == "early-stopped" and resumed.test_acc is not None
    assert len(read_metrics(run_dir / "metrics.csv")) == len(stopped.rows)


def test_a_time_limit_reached_during_the_test_score_stops_it(tmp_path, data):
    """--time-limit (lab train's StopFlag) is polled during the test score too: Slurm's grace time is not spent
    scoring. The clock jumps past the limit once the score begins."""
    from lab_workbench.commands.signals import EXIT_TIME_LIMIT, StopFlag
    events, now = [], [0.0]

    def on_event(e):
        events.append(e)
        if type(e).__name__ == "PhaseChanged" and e.phase == "testing":
            now[0] = 1e6
    stop = StopFlag(time_limit=3600, clock=lambda: now[0])
    h = train(config(tmp_path, data), on_event=on_event, should_stop=stop)
    assert h.status == "interrupted" and stop.exit_code() == EXIT_TIME_LIMIT and h.test_acc is None
    assert len(h.rows) == 2
