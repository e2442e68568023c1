import pytest
import torch

from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.models import create_model, list_models, model_options

NAMES = [m.name for m in list_models()]
SHAPES = {"digits": (1, 8, 8), "mnist": (1, 28, 28), "cifar": (3, 32, 32)}


def test_registry_lists_every_family_with_a_description():
    assert set(NAMES) >= {"logistic", "mlp", "cnn", "resnet", "convnet"}
    assert all(m.description for m in list_models())


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("name", NAMES)
def test_forward_backward_on_each_shape(name, shape):
    torch.manual_seed(0)
    model = create_model(name, shape, 7)
    x = torch.randn(4, *shape)
    out = model(x)
    assert out.shape == (4, 7)
    out.sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", NAMES)
def test_overfits_a_batch_of_64(name):
    from lab_workbench.engine.data.sources import load_digits
    raw = load_digits()
    torch.manual_seed(0)
    x = torch.from_numpy(raw.train_x[:64]).float().div(255).unsqueeze(1)
    x = (x - x.mean()) / x.std()
    y = torch.from_numpy(raw.train_y[:64])
    model = create_model(name, (1, 8, 8), 10)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    acc = 0.0
    for step in range(400):
        model.train()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 20 == 19:
            model.eval()
            with torch.no_grad():
                acc = (model(x).argmax(1) == y).float().mean().item()
            if acc == 1.0:
                break
    assert acc == 1.0, f"{name} reached only {acc:.2%} on 64 training samples"


@pytest.mark.parametrize("scheme", ["kaiming", "xavier"])
def test_init_schemes_change_weights(scheme):
    torch.manual_seed(0)
    a = create_model("mlp", (1, 8, 8), 10)
    torch.manual_seed(0)
    b = create_model("mlp", (1, 8, 8), 10, init=scheme)
    assert not torch.equal(a[1].weight, b[1].weight)
    assert torch.count_nonzero(b[1].bias) == 0


def test_options_shape_the_model():
    mlp = create_model("mlp", (1, 8, 8), 10, hidden=[32, 16], dropout=0.5, activation="tanh")
    linears = [m for m in mlp.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [32, 16, 10]
    assert any(isinstance(m, torch.nn.Tanh) for m in mlp.modules())
    assert any(isinstance(m, torch.nn.Dropout) for m in mlp.modules())
    cnn = create_model("cnn", (1, 28, 28), 10, channels=[8, 16, 32], layers_per_block=1, pool_every=1)
    convs = [m for m in cnn.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in convs] == [8, 16, 32]
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in cnn.modules()) == 3
    cnn2 = create_model("cnn", (1, 28, 28), 10, channels=[8, 16], layers_per_block=3, pool_every=2)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in cnn2.modules()) == 6
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in cnn2.modules()) == 1


def test_resnet_projection_and_bottleneck():
    from lab_workbench.engine.models.resnet import ResidualBlock
    plain = create_model("resnet", (3, 32, 32), 10, channels=[8, 16])
    blocks = [m for m in plain.modules() if isinstance(m, ResidualBlock)]
    assert any(isinstance(b.shortcut, torch.nn.Sequential) for b in blocks)  # 1x1 projection when widths differ
    assert any(isinstance(b.shortcut, torch.nn.Identity) for b in blocks)
    bottle = create_model("resnet", (3, 32, 32), 10, channels=[16, 32], bottleneck=True, dropout=0.1)
    kernels = {m.kernel_size for m in bottle.modules() if isinstance(m, torch.nn.Conv2d)}
    assert (1, 1) in kernels and (3, 3) in kernels
    assert any(isinstance(m, torch.nn.Dropout2d) for m in bottle.modules())


def test_unknown_model_is_a_config_error():
    with pytest.raises(ConfigError, match="--model"):
        create_model("transformer", (1, 8, 8), 10)


def test_model_options_come_from_the_config():
    cfg = TrainConfig(model="cnn", channels=[4], hidden=[8], dropout=0.2)
    opts = model_options(cfg)
    assert opts["channels"] == [4] and opts["hidden"] == [8] and opts["dropout"] == 0.2
    create_model("cnn", (1, 8, 8), 3, **opts)


def test_the_torchvision_names_for_hints_are_torchvisions():
    """engine/models/tv_names.py (the hints for a mistyped --model, read without torch) against torchvision."""
    from lab_workbench.engine.models.catalog import torchvision_names
    from lab_workbench.engine.models.tv_names import TV_NAMES
    installed = set(torchvision_names())
    assert set(TV_NAMES) <= installed and len(TV_NAMES) >= 0.9 * len(installed)
