"""--model tv:NAME, --weights, --init-from, --freeze/--unfreeze-at, --head-lr on a small subset of real MNIST.

Kept fast: 120 training and 40 test images of 28x28, one or two epochs, in-process runs."""

import gzip
import json

import numpy as np
import pytest
import torch

from tests.helpers import MNIST_DIR, lab_here, write_h5

pytestmark = pytest.mark.slow


def _idx(name, count):
    with gzip.open(MNIST_DIR / name, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    size = int(np.prod(dims[1:], dtype=np.int64))
    offset = 4 + 4 * ndim
    return np.frombuffer(data[offset:offset + count * size], dtype=np.uint8).reshape(count, *dims[1:])


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory):
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found in {MNIST_DIR}")
    path = tmp_path_factory.mktemp("mnist") / "mnist-small.h5"
    train = _idx("train-images-idx3-ubyte.gz", 120), _idx("train-labels-idx1-ubyte.gz", 120).astype(np.int64)
    test = _idx("t10k-images-idx3-ubyte.gz", 40), _idx("t10k-labels-idx1-ubyte.gz", 40).astype(np.int64)
    return write_h5(path, *train, test=test)


def train(tmp_path, *args):
    r = lab_here("train", "-e", "1", "-b", "60", "--threads", "2", *args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return r


def best(tmp_path, name):
    return torch.load(tmp_path / "runs" / name / "best.pt", weights_only=True)["model_state_dict"]


def test_resnet18_from_a_torchvision_weights_file_frozen_body_unchanged(tmp_path, small_mnist):
    import torchvision
    torch.manual_seed(1)
    weights = torchvision.models.resnet18(num_classes=1000).state_dict()  # ImageNet's head: 1000 classes
    torch.save(weights, tmp_path / "resnet18.pt")
    r = train(tmp_path, "--data", small_mnist, "--model", "tv:resnet18", "--weights", "resnet18.pt",
              "--freeze", "body.layer*", "--freeze", "body.conv1.*", "--freeze", "body.bn1.*", "--name", "r")
    first = r.stdout.splitlines()[0]
    assert "tv:resnet18 (11,181,642 params, 5,130 train)" in first, first
    assert "1 channel repeated to 3" in first and "head body.fc re-initialised for 10 classes (the weights " \
                                                "have 1000)" in first, first
    state = best(tmp_path, "r")
    frozen = [k for k in weights if k.startswith(("layer", "conv1.", "bn1.")) and "running" not in k
              and "num_batches" not in k]
    assert frozen and all(torch.equal(state["body." + k], weights[k]) for k in frozen)
    assert not torch.equal(state["body.fc.bias"], torch.zeros(10))  # the new head trained


def test_mobilenet_from_a_state_dict_then_init_from_a_run_with_other_classes(tmp_path, small_mnist):
    import torchvision
    torch.manual_seed(2)
    torch.save(torchvision.models.mobilenet_v3_small(num_classes=10).state_dict(), tmp_path / "mb.pt")
    train(tmp_path, "--data", small_mnist, "--model", "tv:mobilenet_v3_small", "--init-from", "mb.pt",
          "--classes", "3,5", "--name", "two")
    r = train(tmp_path, "--data", small_mnist, "--model", "tv:mobilenet_v3_small", "--init-from", "two",
              "--freeze", "body.features.*", "--head-lr", "0.01", "--name", "ten")
    assert "head body.classifier.3 re-initialised for 10 classes (the weights have 2)" in r.stdout
    two, ten = best(tmp_path, "two"), best(tmp_path, "ten")
    assert two["body.classifier.3.weight"].shape[0] == 2 and ten["body.classifier.3.weight"].shape[0] == 10
    params = [k for k in two if k.startswith("body.features.") and "running" not in k and "num_batches" not in k]
    assert params and all(torch.equal(two[k], ten[k]) for k in params)
    for command in (["eval", "runs/ten"], ["inspect-weights", "runs/ten"]):
        r = lab_here(*command, cwd=tmp_path)
        assert r.returncode == 0, (command, r.stderr)
    for fmt in ("torchscript", "safetensors"):  # export and onnx work too, but take minutes on 2 busy cores
        r = lab_here("export", "runs/ten", "--format", fmt, "--batch", "4", cwd=tmp_path)
        assert r.returncode == 0, (fmt, r.stderr)


def test_unfreeze_at_and_resume(tmp_path, small_mnist):
    args = ["--data", small_mnist, "--model", "tv:mobilenet_v3_small", "--freeze", "body.features.*",
            "--unfreeze-at", "2", "--name", "u", "--scheduler", "none"]  # cosine would end epoch 1 at lr 0
    train(tmp_path, *args)
    after_one = best(tmp_path, "u")
    r = lab_here("train", "--resume", "runs/u", "-e", "2", "--threads", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    last = torch.load(tmp_path / "runs" / "u" / "last.pt", weights_only=True)["model_state_dict"]
    assert not torch.equal(last["body.features.0.0.weight"], after_one["body.features.0.0.weight"])
    assert json.loads((tmp_path / "runs" / "u" / "results.json").read_text())["epochs_completed"] == 2


@pytest.mark.parametrize("args, expected", [
    (["--model", "tv:resnet19"], "--model: 'tv:resnet19' is not a torchvision classification model "
                                 "(did you mean 'tv:resnet18'?)"),
    (["--model", "tv:resnet18", "-H", "64"], "--hidden: model tv:resnet18 does not take this option"),
    (["--model", "tv:resnet18", "--weights", "none.pt"], "--weights none.pt: no such file"),
    (["--model", "tv:resnet18", "--init-from", "code.pt"], "--init-from code.pt: cannot read it as weights"),
    (["--model", "tv:resnet18", "--init-from", "mb.pt"], "--init-from mb.pt: parameter 'body.features.0.0.weight'"
                                                         " is not in the model"),
    (["--model", "tv:resnet18", "--init-from", "wide.pt"], "--init-from wide.pt: parameter 'body.conv1.weight' has "
                                                           "shape [64, 3, 5, 5], the model needs [64, 3, 7, 7]"),
    (["--model", "tv:resnet18", "--freeze", "nothing*"], "--freeze 'nothing*': matches no parameter"),
])
def test_bad_fine_tuning_input_is_one_line(tmp_path, small_mnist, args, expected):
    import pickle
    import torchvision
    (tmp_path / "code.pt").write_bytes(pickle.dumps(print))  # a pickle that would call code: refused
    torch.save(torchvision.models.mobilenet_v3_small(num_classes=10).state_dict(), tmp_path / "mb.pt")
    state = torchvision.models.resnet18(num_classes=10).state_dict()
    state["conv1.weight"] = torch.zeros(64, 3, 5, 5)
    torch.save(state, tmp_path / "wide.pt")
    r = lab_here("train", "--data", small_mnist, "-e", "1", *args, cwd=tmp_path)
    assert r.returncode == 2, r.stdout
    assert r.stderr.startswith(f"error: {expected}"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_models_all_lists_torchvision_classifiers(tmp_path):
    r = lab_here("models", "--all", cwd=tmp_path)
    names = [line.split()[0] for line in r.stdout.splitlines()]
    assert r.returncode == 0 and {"mlp", "tv:resnet18", "tv:mobilenet_v3_small", "tv:vit_b_16"} <= set(names)
    assert "tv:resnet18" not in lab_here("models", cwd=tmp_path).stdout
