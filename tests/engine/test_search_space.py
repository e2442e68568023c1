"""The search space of `lab sweep --search` (engine/runs/search.py): parsing, checks, trial <-> run folder."""

import os
import socket
import time

import pytest

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.runs.search import (Param, check_space, parse_space, run_name, space_from_record, space_record,
                                worker_alive)


def test_ranges_log_ranges_and_choices_are_parsed_as_the_grid_writes_values():
    space = parse_space(["lr=log:1e-4..1e-1", "dropout=0..0.5", "hidden=64;128;256", "batch-size=16..64",
                         "optimizer=adam,sgd"])
    assert space["lr"] == Param("lr", "float", 1e-4, 1e-1, True)
    assert space["dropout"] == Param("dropout", "float", 0.0, 0.5, False)
    assert space["hidden"] == Param("hidden", "choice", choices=("64", "128", "256"))
    assert space["batch_size"] == Param("batch_size", "int", 16, 64, False)
    assert space["optimizer"].choices == ("adam", "sgd")
    assert space_from_record(space_record(space)) == space
    assert space["lr"].text(0.0031622776601683794) == "0.00316228" and space["batch_size"].text(32) == "32"


@pytest.mark.parametrize("spec, message", [
    ("lr", "--param: expected FIELD=LOW..HIGH"),
    ("nosuch=1..2", "--param nosuch: not a field"),
    ("name=a,b", "--param name: not a field"),
    ("lr=log:0..1", "a log range must start above 0"),
    ("lr=0.1..0.01", "expected LOW < HIGH"),
    ("lr=a..1", "--param lr=a:"),
    ("dropout=0..2", "--param dropout=2:"),
    ("optimizer=adam..sgd", "a range needs a numeric field"),
    ("lr=log:1e-3,1e-2", "log: takes a range"),
    ("lr=0.1", "two or more choices"),
    ("optimizer=adam,nope", "--param optimizer=nope"),
])
def test_bad_params_are_one_clear_error(spec, message):
    with pytest.raises(ConfigError) as e:
        check_space(parse_space([spec]), {})  # a range's ends and every choice make a valid config
    assert message in str(e.value)


def test_a_field_twice_and_a_space_that_makes_a_bad_config_are_refused():
    with pytest.raises(ConfigError, match="given twice"):
        parse_space(["lr=1e-3..1e-2", "lr=1e-3,1e-2"])
    with pytest.raises(ConfigError, match="--param lr=0.5"):  # fine alone, not with the shared settings
        check_space(parse_space(["lr=0.5,1e-3"]), {"optimizer": "sgd", "momentum": "2"})


def test_trials_map_to_run_folders_and_dead_workers_are_told_from_live_ones():
    assert run_name(7) == "trial-007"
    here = socket.gethostname()
    assert worker_alive({"host": here, "pid": os.getpid()}, None)
    assert not worker_alive({"host": here, "pid": 2 ** 22 + 12345}, None)  # above any pid in use
    now = time.time()
    assert worker_alive({"host": "elsewhere", "pid": 1, "time": now - 5}, None, now)  # still loading its data
    assert not worker_alive({"host": "elsewhere", "pid": 1, "time": now - 3600}, None, now)
    assert worker_alive({"host": "elsewhere", "time": now - 3600}, {"host": "elsewhere", "pid": 1, "time": now - 2}, now)
