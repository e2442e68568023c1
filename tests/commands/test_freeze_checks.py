"""A --freeze that would freeze the head or leave nothing to train is one error line before anything runs;
`--freeze body` (the example in lab train --help) freezes everything but the head on every model family."""

import pytest
import torch

from tests.helpers import lab_here

TINY = ["-e", "1", "--subset", "64", "-b", "32", "--device", "cpu"]


@pytest.mark.parametrize("model, args", [
    ("tv:squeezenet1_1", ["--freeze", "body.*"]),  # the head is body.classifier.1
    ("mlp", ["--freeze", "5.*"]),
    ("cnn", ["-K", "4", "--freeze", "4.weight"]),
])
def test_freezing_the_head_is_one_line_and_no_run_folder(tmp_path, monkeypatch, model, args):
    import lab_workbench.engine.training.trainer as trainer

    def refuse(*a, **k):
        raise AssertionError("the data loaded before --freeze was checked")
    monkeypatch.setattr(trainer, "load_dataset", refuse)
    r = lab_here("train", *TINY, "-m", model, *args, "--name", "f", cwd=tmp_path)
    assert r.returncode == 2, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --freeze") and "head" in lines[0], r.stderr
    assert not (tmp_path / "runs" / "f").exists()


def test_help_example_is_the_one_that_works_everywhere(tmp_path):
    from lab_workbench.engine.settings.config import SETTINGS_BY_NAME
    assert "--freeze body" in SETTINGS_BY_NAME["freeze"].help


@pytest.mark.parametrize("model, args", [
    ("mlp", ["-H", "8,8"]),
    ("cnn", ["-K", "4,4", "-L", "1"]),
    ("resnet", ["-K", "4", "-L", "1"]),
    ("fastcnn", ["-K", "4,4,4"]),
    ("convnet", []),
    ("tv:squeezenet1_1", []),
])
def test_freeze_body_trains_only_the_head(tmp_path, model, args):
    import json

    from lab_workbench.engine.settings.config import TrainConfig
    from lab_workbench.engine.models import create_model, model_options
    from lab_workbench.engine.training.finetune import head_names
    r = lab_here("train", *TINY, "-m", model, *args, "--freeze", "body", "--precision", "fp32", "--name", "b",
                 cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    state = torch.load(tmp_path / "runs" / "b" / "best.pt", weights_only=True)["model_state_dict"]
    first = r.stdout.splitlines()[0]
    saved = TrainConfig.from_dict(json.loads((tmp_path / "runs" / "b" / "config.json").read_text())["config"])
    head = head_names(create_model(model, (1, 8, 8), 10, **model_options(saved)))
    trained = sum(state[k].numel() for k in head)
    assert f"{trained:,} train)" in first, first
