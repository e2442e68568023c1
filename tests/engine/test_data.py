import pickle

import numpy as np
import pytest
import torch

from tests.helpers import make_images, write_h5, write_idx
from lab_workbench.engine.settings.config import TrainConfig
from lab_workbench.engine.data import build_dataset, load_dataset, read_idx, read_source
from lab_workbench.engine.data.formats import read_cifar_pickle
from lab_workbench.engine.data.sources import load_cifar10
from lab_workbench.engine.core.errors import DataError




def test_digits_default_splits_and_normalisation():
    ds = load_dataset(TrainConfig())
    assert ds.input_shape == (1, 8, 8) and ds.num_classes == 10
    assert len(ds.train) + len(ds.val) + len(ds.test) == 1797
    assert abs(ds.train.x.mean().item()) < 1e-4 and abs(ds.train.x.std().item() - 1) < 1e-2
    assert ds.train.x.dtype == torch.float32 and ds.train.y.dtype == torch.int64


def test_val_split_is_seeded_and_subset_limits():
    a = load_dataset(TrainConfig(seed=1, subset=500, val_split=0.2))
    b = load_dataset(TrainConfig(seed=1, subset=500, val_split=0.2))
    c = load_dataset(TrainConfig(seed=2, subset=500, val_split=0.2))
    assert len(a.train) == 400 and len(a.val) == 100
    assert torch.equal(a.val.index, b.val.index) and not torch.equal(a.val.index, c.val.index)
    assert torch.equal(a.test.index, c.test.index)  # the held-out test split does not move with the seed


def test_classes_subset_relabels_and_keeps_names(tiny_h5):
    ds = load_dataset(TrainConfig(data=str(tiny_h5), classes=[2, 0], val_split=0.0))
    assert ds.classes == ["c", "a"]
    assert set(ds.train.y.tolist()) == {0, 1}
    raw = read_source("digits", data=str(tiny_h5))
    # every relabelled 0 came from source class 2
    src = raw.train_y[ds.train.index.numpy()]
    assert np.all(src[ds.train.y.numpy() == 0] == 2)


def test_hdf5_with_test_group_and_custom_keys(tmp_path):
    images, labels = make_images(60, 6, 6, c=3)
    path = write_h5(tmp_path / "x.h5", images, labels, test=make_images(12, 6, 6, c=3),
                    images_key="X", labels_key="y")
    ds = load_dataset(TrainConfig(data=str(path), images_key="X", labels_key="y"))
    assert ds.input_shape == (3, 6, 6) and len(ds.test) == 12 and ds.classes == ["0", "1", "2"]
    assert len(ds.mean) == 3


def test_float_hdf5_images(tmp_path):
    images, labels = make_images(40)
    path = write_h5(tmp_path / "f.h5", images.astype(np.float32) / 255, labels)
    ds = load_dataset(TrainConfig(data=str(path)))
    assert ds.train.x.dtype == torch.float32


@pytest.mark.parametrize("case, match", [
    ("missing", "file not found"),
    ("not_hdf5", "not a readable HDF5"),
    ("no_images", "no dataset 'images'"),
    ("length", "50 images but 49 labels"),
    ("ndim", "shape \\(N,H,W\\)"),
    ("dtype", "uint8 or float"),
    ("negative", "labels must be >= 0"),
    ("float_labels", "labels must be integers"),
    ("names", "only 2 class names"),
])
def test_bad_hdf5_files_give_clear_errors(tmp_path, case, match):
    import h5py
    images, labels = make_images(50)
    path = tmp_path / "bad.h5"
    if case == "not_hdf5":
        path.write_bytes(b"this is not hdf5")
    elif case == "no_images":
        with h5py.File(path, "w") as f:
            f["labels"] = labels
    elif case == "length":
        write_h5(path, images, labels[:-1])
    elif case == "ndim":
        write_h5(path, images.reshape(50, -1), labels)
    elif case == "dtype":
        write_h5(path, images.astype(np.complex64), labels)
    elif case == "negative":
        write_h5(path, images, labels - 1)
    elif case == "float_labels":
        write_h5(path, images, labels + 0.5)
    elif case == "names":
        write_h5(path, images, labels, class_names=["a", "b"])
    with pytest.raises(DataError, match=match):
        load_dataset(TrainConfig(data=str(path)))


def test_classes_out_of_range(tiny_h5):
    with pytest.raises(DataError, match="--classes"):
        load_dataset(TrainConfig(data=str(tiny_h5), classes=[0, 7]))


def test_idx_reader_round_trip_and_errors(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(read_idx(write_idx(tmp_path / "a-idx3-ubyte.gz", arr, gz=True)), arr)
    bad_magic = tmp_path / "b"
    bad_magic.write_bytes(b"\x01\x02\x08\x03" + b"\0" * 20)
    with pytest.raises(DataError, match="magic"):
        read_idx(bad_magic)
    short = tmp_path / "c"
    short.write_bytes(write_idx(tmp_path / "d", arr).read_bytes()[:-3])
    with pytest.raises(DataError, match="holds 21 bytes"):
        read_idx(short)


def test_missing_mnist_names_the_files_and_folders(tmp_path):
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\[\.gz\].*MNIST/raw"):
        load_dataset(TrainConfig(dataset="mnist", data_dir=str(tmp_path)))


def test_fashion_from_torchvision_layout(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    images, labels = make_images(40, 28, 28, classes=10)
    for split, n in (("train", 40), ("t10k", 20)):
        write_idx(raw / f"{split}-images-idx3-ubyte", images[:n])
        write_idx(raw / f"{split}-labels-idx1-ubyte", labels[:n])
    ds = load_dataset(TrainConfig(dataset="fashion", data_dir=str(tmp_path)))
    assert ds.classes[0] == "T-shirt/top" and ds.input_shape == (1, 28, 28) and len(ds.test) == 20


def write_cifar(folder, n=20):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8), b"labels": list(range(10)) * (n // 10)}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [f"c{i}".encode() for i in range(10)]}))


def test_cifar10_pickles(tmp_path):
    write_cifar(tmp_path / "cifar-10-batches-py")
    raw = load_cifar10(tmp_path, download=False)
    assert raw.train_x.shape == (100, 32, 32, 3) and raw.test_x.shape == (20, 32, 32, 3)
    assert raw.classes[3] == "c3"


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_cifar_unpickler_refuses_code(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(DataError, match="refusing to load builtins.print"):
        read_cifar_pickle(path)


def test_real_mnist(mnist_dir):
    ds = load_dataset(TrainConfig(dataset="mnist", data_dir=str(mnist_dir), val_split=0.1))
    assert (len(ds.train), len(ds.val), len(ds.test)) == (54000, 6000, 10000)
    assert ds.input_shape == (1, 28, 28)
    assert abs(ds.mean[0] - 0.1307) < 1e-3 and abs(ds.std[0] - 0.3081) < 1e-3


def test_stats_override_is_used():
    raw = read_source("digits")
    ds = build_dataset(raw, stats=([0.0], [1.0]))
    assert ds.mean == [0.0] and ds.train.x.min() >= 0
