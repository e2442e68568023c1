"""Optimizers and schedulers are registries like the models: what is registered (by lab or a plugin) is what
the config accepts, what --help and the form list, what the error names, and what training builds."""

import subprocess
import sys

import pytest

from lab_workbench.engine.settings.config import SETTINGS_BY_NAME, TrainConfig, config_from_text
from lab_workbench.engine.core.errors import ConfigError
from tests.helpers import lab_cmd, lab_env


@pytest.fixture
def registered():
    """Register a test optimizer and scheduler; forget them afterwards."""
    import torch

    from lab_workbench.engine.training.optim import OPTIMIZERS, register_optimizer
    from lab_workbench.engine.training.schedule import SCHEDULERS, register_scheduler

    @register_optimizer("plainsgd", "SGD without momentum (a test's)")
    def plain(params, cfg):
        return torch.optim.SGD(params, lr=cfg.lr)

    @register_optimizer("heavyball", "SGD with --momentum (a test's)", uses=("momentum",))
    def heavy(params, cfg):
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)

    @register_scheduler("halved", "half the learning rate throughout (a test's)")
    def halved(schedule, step, base):
        return base / 2

    yield
    OPTIMIZERS.remove("plainsgd")
    OPTIMIZERS.remove("heavyball")
    SCHEDULERS.remove("halved")


def test_a_registered_optimizer_and_scheduler_are_choices_and_are_used(registered):
    import torch

    from lab_workbench.engine.training.optim import make_optimizer
    from lab_workbench.engine.training.schedule import Schedule
    cfg = config_from_text({"optimizer": "plainsgd", "scheduler": "halved", "lr": "0.4"})
    assert "plainsgd" in SETTINGS_BY_NAME["optimizer"].options()
    assert "halved" in SETTINGS_BY_NAME["scheduler"].options()
    opt = make_optimizer(torch.nn.Linear(2, 2), cfg)
    assert type(opt) is torch.optim.SGD and opt.defaults["momentum"] == 0
    assert Schedule(cfg, 10, [0.4]).lrs(5) == [0.2]


@pytest.mark.parametrize("field", ["optimizer", "scheduler"])
def test_the_error_lists_what_is_registered(registered, field):
    with pytest.raises(ConfigError) as e:
        config_from_text({field: "nope"})
    name = "plainsgd" if field == "optimizer" else "halved"
    assert str(e.value).startswith(f"--{field}: expected one of ") and name in str(e.value)


def test_the_engine_refuses_an_unknown_name_with_the_same_words_as_the_config():
    """A config built without validation (a library user's) still gets the flag's error, with the choices."""
    from lab_workbench.engine.training.optim import make_optimizer
    from lab_workbench.engine.training.schedule import Schedule
    import torch
    with pytest.raises(ConfigError, match=r"^--optimizer: expected one of sgd, adam, adamw, rmsprop, got 'x'"):
        make_optimizer(torch.nn.Linear(2, 2), TrainConfig(optimizer="x"))
    with pytest.raises(ConfigError, match=r"^--scheduler: expected one of none, step, plateau, cosine, onecycle"):
        Schedule(TrainConfig(scheduler="x"), 10, [0.1])


def test_the_form_offers_a_registered_optimizer(registered):
    from lab_workbench.tui.widgets.config_form import _select_options
    assert ("plainsgd", "plainsgd") in _select_options(SETTINGS_BY_NAME["optimizer"])
    assert ("halved", "halved") in _select_options(SETTINGS_BY_NAME["scheduler"])


PLUGIN = '''
from lab_workbench.engine.training.optim import register_optimizer
from lab_workbench.engine.training.schedule import register_scheduler

@register_optimizer("lion", "a plugin's optimizer")
def lion(params, cfg):
    import torch
    return torch.optim.SGD(params, lr=cfg.lr)

@register_scheduler("halved", "a plugin's schedule")
def halved(schedule, step, base):
    return base / 2
'''


def test_a_plugin_s_optimizer_and_scheduler_are_in_help_and_errors_without_torch(tmp_path):
    (tmp_path / "choiceplugin.py").write_text(PLUGIN)
    env = lab_env(LAB_PLUGINS="choiceplugin")
    env["PYTHONPATH"] += f":{tmp_path}"
    r = subprocess.run(lab_cmd("train", "--help"), cwd=tmp_path, env=env, capture_output=True, text=True)
    text = " ".join(r.stdout.split())
    assert "sgd, adam, adamw, rmsprop, lion" in text and "onecycle, halved" in text, r.stdout
    code = "import sys; from lab_workbench.commands.app import main\ntry: main(sys.argv[1:])\nexcept SystemExit as e: " \
           "print('torch' in sys.modules, e.code)"
    r = subprocess.run([sys.executable, "-c", code, "train", "--optimizer", "lio"], cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert r.stderr.startswith("error: --optimizer: expected one of sgd, adam, adamw, rmsprop, lion, got 'lio'")
    assert r.stdout.split() == ["False", "2"]


def test_a_registered_optimizer_says_which_of_the_optional_flags_it_reads(registered):
    assert config_from_text({"optimizer": "heavyball", "momentum": "0.5"}).momentum == 0.5
    with pytest.raises(ConfigError, match=r"^--momentum: --optimizer plainsgd does not use it \(only sgd, rmsprop and heavyball do\)"):
        config_from_text({"optimizer": "plainsgd", "momentum": "0.5"})
    with pytest.raises(ConfigError, match=r"^--nesterov: --optimizer heavyball does not use it \(only sgd does\)"):
        config_from_text({"optimizer": "heavyball", "nesterov": "on"})
