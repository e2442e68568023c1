"""A recipe merges with what was given by one rule (engine.settings.recipes.with_recipe), for the flags of
`lab train` and the edited fields of labtui's form: what was given wins, the recipe fills the rest."""

import pytest

from lab_workbench.engine.settings.config import TrainConfig, config_from_text
from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.settings.recipes import recipe_values, with_recipe


def test_given_fields_win_and_the_recipe_fills_the_rest():
    got = with_recipe({"recipe": "fast", "dataset": "mnist", "lr": 0.05, "epochs": 10}, TrainConfig())
    fast = recipe_values("fast", "mnist")
    assert got["lr"] == 0.05 and got["epochs"] == 10  # 10 is the default, given all the same
    assert got["model"] == fast["model"] == "fastcnn" and got["batch_size"] == fast["batch_size"]


def test_without_a_recipe_the_given_fields_are_all():
    assert with_recipe({"lr": 0.05}, TrainConfig()) == {"lr": 0.05}
    assert with_recipe({"recipe": None, "dataset": "mnist"}, TrainConfig(recipe="fast")) == {"recipe": None,
                                                                                              "dataset": "mnist"}


def test_a_new_data_set_takes_the_base_recipe_s_values_for_it():
    base = config_from_text({"recipe": "fast", "dataset": "mnist"})
    got = with_recipe({"dataset": "fashion"}, base)
    assert got["epochs"] == recipe_values("fast", "fashion")["epochs"] != base.epochs
    assert with_recipe({"lr": 0.1}, base) == {"lr": 0.1}  # the base already holds its recipe's values


def test_the_cli_path_uses_it():
    cfg = config_from_text({"recipe": "fast", "dataset": "mnist", "epochs": "10", "lr": "0.001"})
    assert (cfg.model, cfg.epochs, cfg.lr) == ("fastcnn", 10, 0.001)
    with pytest.raises(ConfigError, match="--recipe fast: has values for"):
        config_from_text({"recipe": "fast", "dataset": "digits"})
