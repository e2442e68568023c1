import json
import pickle

import h5py
import numpy as np
import pytest

from tests.helpers import lab_here, make_images, write_h5, write_idx
from lab_workbench.engine.data.convert import detect_source
from lab_workbench.engine.core.errors import DataError
from lab_workbench.engine.data.h5file import write_h5 as convert_to_h5


run = lab_here  # in this process: the files and messages are the point, not the process boundary




def idx_folder(tmp_path, gz=True):
    d = tmp_path / "idx"
    d.mkdir()
    train, test = make_images(50, 28, 28, classes=10), make_images(20, 28, 28, classes=10, seed=3)
    ext = ".gz" if gz else ""
    write_idx(d / f"train-images-idx3-ubyte{ext}", train[0], gz)
    write_idx(d / f"train-labels-idx1-ubyte{ext}", train[1], gz)
    write_idx(d / f"t10k-images-idx3-ubyte{ext}", test[0], gz)
    write_idx(d / f"t10k-labels-idx1-ubyte{ext}", test[1], gz)
    return d, train, test


def read_back(path):
    with h5py.File(path, "r") as f:
        out = {"images": f["images"][()], "labels": f["labels"][()], "attrs": dict(f.attrs)}
        if "test" in f:
            out["test"] = (f["test/images"][()], f["test/labels"][()])
        out["chunks"] = f["images"].chunks
        out["compression"] = f["images"].compression
    return out


def test_idx_round_trip_bit_for_bit(tmp_path):
    d, train, test = idx_folder(tmp_path)
    r = run("convert", d, tmp_path / "out.h5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    back = read_back(tmp_path / "out.h5")
    assert np.array_equal(back["images"], train[0]) and np.array_equal(back["labels"], train[1])
    assert np.array_equal(back["test"][0], test[0]) and np.array_equal(back["test"][1], test[1])
    assert back["labels"].dtype == np.int64 and back["images"].dtype == np.uint8
    assert back["compression"] == "lzf" and back["chunks"] is not None
    attrs = back["attrs"]
    assert list(attrs["class_names"]) == [str(i) for i in range(10)]
    assert attrs["format_version"] == 1 and attrs["source"].startswith("idx:") and attrs["created"]


def test_refuses_overwrite_without_force(tmp_path):
    d, *_ = idx_folder(tmp_path, gz=False)
    (tmp_path / "out.h5").write_text("precious")
    r = run("convert", d, tmp_path / "out.h5", cwd=tmp_path)
    assert r.returncode == 2 and "--force" in r.stderr
    assert (tmp_path / "out.h5").read_text() == "precious"
    assert run("convert", d, tmp_path / "out.h5", "--force", cwd=tmp_path).returncode == 0



def test_cifar_batches_convert(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = {b"data": rng.integers(0, 255, (10, 3072), dtype=np.uint8), b"labels": list(range(10))}
        (folder / name).write_bytes(pickle.dumps(batches[name]))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [f"k{i}".encode() for i in range(10)]}))
    assert run("convert", folder, tmp_path / "c.h5", cwd=tmp_path).returncode == 0
    back = read_back(tmp_path / "c.h5")
    expect = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    assert np.array_equal(back["images"], expect.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert back["images"].shape == (50, 32, 32, 3) and back["test"][0].shape == (10, 32, 32, 3)
    assert list(back["attrs"]["class_names"])[2] == "k2"


def test_imagefolder_with_resize_and_grayscale(tmp_path):
    from PIL import Image
    root = tmp_path / "pets"
    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        (root / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (20, 16, 3), dtype=np.uint8)).save(root / cls / f"{i}.png")
    r = run("convert", root, tmp_path / "p.h5", "--size", "8x10", "--grayscale", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    back = read_back(tmp_path / "p.h5")
    assert back["images"].shape == (6, 8, 10) and back["labels"].tolist() == [0, 0, 0, 1, 1, 1]
    assert list(back["attrs"]["class_names"]) == ["cat", "dog"]
    r = run("convert", root, tmp_path / "rgb.h5", cwd=tmp_path)
    assert read_back(tmp_path / "rgb.h5")["images"].shape == (6, 20, 16, 3)


def test_npz_and_npy_pairs(tmp_path):
    images, labels = make_images(30, 5, 5)
    np.savez(tmp_path / "a.npz", X=images, y=labels)
    assert run("convert", tmp_path / "a.npz", tmp_path / "a.h5", "--images-key", "X", "--labels-key", "y",
               cwd=tmp_path).returncode == 0
    assert np.array_equal(read_back(tmp_path / "a.h5")["images"], images)
    np.save(tmp_path / "images.npy", images)
    np.save(tmp_path / "labels.npy", labels)
    assert run("convert", tmp_path / "images.npy", tmp_path / "b.h5", cwd=tmp_path).returncode == 0
    assert np.array_equal(read_back(tmp_path / "b.h5")["labels"], labels)


def test_train_from_converted_file_uses_its_test_group(tmp_path):
    d, _, test = idx_folder(tmp_path)
    assert run("convert", d, tmp_path / "m.h5", cwd=tmp_path).returncode == 0
    r = run("train", "--data", tmp_path / "m.h5", "-e", "1", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["data"]["sizes"]["test"] == len(test[1])


@pytest.mark.parametrize("case, needle", [
    ("magic", "bad magic number"),
    ("length", "but the file holds"),
    ("counts", "has 50 images but"),
    ("empty", "no images found"),
    ("truncated_h5", "not a readable HDF5"),
])
def test_bad_sources_leave_no_file(tmp_path, case, needle):
    d, train, _ = idx_folder(tmp_path, gz=False)
    if case == "magic":
        p = d / "train-images-idx3-ubyte"
        p.write_bytes(b"\x00\x00\x77\x03" + p.read_bytes()[4:])
    elif case == "length":
        p = d / "train-images-idx3-ubyte"
        p.write_bytes(p.read_bytes()[:-100])
    elif case == "counts":
        write_idx(d / "train-labels-idx1-ubyte", train[1][:40])
    elif case == "empty":
        d = tmp_path / "empty"
        d.mkdir()
    if case == "truncated_h5":
        write_h5(tmp_path / "t.h5", *make_images(40))
        data = (tmp_path / "t.h5").read_bytes()
        (tmp_path / "t.h5").write_bytes(data[: len(data) // 2])
        r = run("data", tmp_path / "t.h5", cwd=tmp_path)
    else:
        r = run("convert", d, tmp_path / "out.h5", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr, r.stderr
    assert not (tmp_path / "out.h5").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_interrupted_convert_leaves_no_half_file(tmp_path):
    d, *_ = idx_folder(tmp_path)
    src = detect_source(str(d))

    def boom(split, done, total):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        convert_to_h5(src, tmp_path / "out.h5", on_progress=boom)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]


def test_verify_detects_damage(tmp_path):
    from lab_workbench.engine.data.h5file import verify_h5
    d, *_ = idx_folder(tmp_path)
    convert_to_h5(detect_source(str(d)), tmp_path / "v.h5")
    with h5py.File(tmp_path / "v.h5", "a") as f:
        f["labels"][0] = 9 - f["labels"][0]
    with pytest.raises(DataError, match="checksum of /labels"):
        verify_h5(tmp_path / "v.h5")


def test_data_report_and_warnings(tmp_path):
    images, labels = make_images(60, classes=3)
    labels[:30] = 0  # imbalance
    images[5] = 7  # a constant image
    test_images, test_labels = images[:4].copy(), labels[:4].copy()  # duplicates of train images
    labels[-1] = 5  # beyond the 3 class names
    write_h5(tmp_path / "w.h5", images, labels, test=(test_images, test_labels), class_names=["a", "b", "c"])
    r = run("data", tmp_path / "w.h5", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["splits"]["train"]["count"] == 60 and info["splits"]["test"]["count"] == 4
    warnings = " ".join(info["warnings"])
    for needle in ("imbalance", "constant", "labels are >= 3", "4 test images also appear in train"):
        assert needle in warnings
    r = run("data", tmp_path / "w.h5", cwd=tmp_path)
    assert r.returncode == 0 and "images per class" in r.stdout and "samples per class" in r.stdout
    assert "\x1b[" not in r.stdout


def test_real_mnist_counts(tmp_path, mnist_dir):
    summary = convert_to_h5(detect_source(str(mnist_dir)), tmp_path / "mnist.h5")
    assert summary["counts"] == {"train": 60000, "test": 10000}
    with h5py.File(tmp_path / "mnist.h5") as f:
        counts = np.bincount(f["labels"][()]).tolist()
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_lab_data_reads_an_idx_folder_and_draws_counts_to_scale(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), [40, 10, 20])
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 255, (70, 6, 6)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    r = lab_here("data", tmp_path, "--samples", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import re
    bars = [line for line in r.stdout.splitlines() if re.fullmatch(r"\s+\S+ [\u2588-\u258f ]+ [\d,]+", line)]
    assert len(bars) == 10  # one bar per class (IDX files name the ten digits), not one more
    lengths = [line.count("\u2588") for line in bars]
    assert [line.split()[-1] for line in bars] == ["40", "10", "20"] + ["0"] * 7
    assert lengths[0] == 40 and lengths[1] == 10 and lengths[2] == 20  # width 40 = the largest class


def test_lab_data_of_a_missing_file_names_the_file_not_a_flag(tmp_path):
    r = lab_here("data", "nothere.h5", cwd=tmp_path)
    assert r.returncode == 2 and "nothere.h5" in r.stderr and "--data" not in r.stderr
