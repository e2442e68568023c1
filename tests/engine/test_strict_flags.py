"""Flags that the chosen optimizer, scheduler or data source would ignore are refused (issue 24)."""

import pytest

from lab_workbench.engine.settings.config import TrainConfig, config_from_text
from lab_workbench.engine.core.errors import ConfigError


@pytest.mark.parametrize("values,flag", [
    ({"optimizer": "adamw", "momentum": "0.5"}, "--momentum: --optimizer adamw does not use it"),
    ({"optimizer": "adam", "nesterov": True}, "--nesterov: --optimizer adam does not use it"),
    ({"optimizer": "rmsprop", "nesterov": True}, "--nesterov: --optimizer rmsprop"),
    ({"scheduler": "cosine", "gamma": "0.5"}, "--gamma: --scheduler cosine does not use it"),
    ({"scheduler": "plateau", "step_size": "3"}, "--step-size: --scheduler plateau"),
    ({"data": "pets.h5", "dataset": "mnist"}, "--dataset mnist: ignored with --data pets.h5"),
])
def test_an_ignored_flag_is_an_error_naming_it(values, flag):
    with pytest.raises(ConfigError, match=flag):
        config_from_text(values)


@pytest.mark.parametrize("values", [
    {"optimizer": "sgd", "momentum": "0.5", "nesterov": True}, {"optimizer": "rmsprop", "momentum": "0.5"},
    {"scheduler": "step", "step_size": "2", "gamma": "0.5"}, {"scheduler": "plateau", "gamma": "0.5"},
    {"optimizer": "adam", "momentum": "0.9"},  # the default value, whatever the optimizer
    {"recipe": "fast", "dataset": "mnist", "data": "mnist.h5"},  # --dataset picks the recipe's values
])
def test_flags_that_are_used_pass(values):
    config_from_text(values)


def test_a_run_from_an_hdf5_file_does_not_record_the_default_data_set():
    c = config_from_text({"data": "pets.h5"})
    assert c.dataset is None and c.data == "pets.h5" and c.source == "pets"
    assert TrainConfig(data="x.h5").to_dict()["dataset"] is None
    assert TrainConfig.from_dict(TrainConfig(data="x.h5").to_dict()).validate().dataset is None
