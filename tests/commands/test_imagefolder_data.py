"""`lab train --data FOLDER` on an ImageFolder tree: decoded once into a cached HDF5 file, reused while the
folder is unchanged, the same run as converting it by hand; hostile trees are one line each."""

import csv
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import lab_cmd, lab_env, lab_here, make_images

TRAIN = ("-e", "2", "--batch-size", "16", "--seed", "3")


def image_tree(root, n=60, classes=3):
    """3 classes x 20 tiny PNGs (the helpers' separable images), written with PIL."""
    from PIL import Image
    images, labels = make_images(n, 8, 8, classes=classes)
    for i, (x, y) in enumerate(zip(images, labels)):
        (root / f"class{y}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(x).save(root / f"class{y}" / f"{i:03d}.png")
    return root


def metrics(run_dir):
    with open(run_dir / "metrics.csv") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def cached(cache):
    return sorted((cache / "imagefolders").glob("*.h5"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_DATA_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_folder_trains_as_its_converted_file(tmp_path, cache):
    tree = image_tree(tmp_path / "tree")
    r = lab_here("train", "--data", tree, *TRAIN, "--name", "folder", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len(cached(cache)) == 1 and " on tree " in r.stdout  # named as the folder, not the cache file
    r = lab_here("convert", tree, tmp_path / "tree.h5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = lab_here("train", "--data", tmp_path / "tree.h5", *TRAIN, "--name", "file", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    by_folder, by_file = metrics(tmp_path / "runs" / "folder"), metrics(tmp_path / "runs" / "file")
    assert len(by_folder) == 2 and by_folder == by_file
    r = lab_here("eval", tmp_path / "runs" / "folder", "--json", cwd=tmp_path)  # eval reads the folder again
    assert r.returncode == 0, r.stderr
    assert len(cached(cache)) == 1  # the same cached copy


def test_the_cache_is_reused_until_the_folder_changes(tmp_path, cache):
    from lab_workbench.engine.data.folder import folder_h5
    tree = image_tree(tmp_path / "tree")
    first = folder_h5(str(tree))
    mtime = os.stat(first).st_mtime_ns
    assert folder_h5(str(tree)) == first and os.stat(first).st_mtime_ns == mtime  # not decoded again
    from PIL import Image
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tree / "class0" / "new.png")
    second = folder_h5(str(tree))
    assert second != first and cached(cache) == [type(cache)(second)]  # the stale copy is gone
    import h5py
    with h5py.File(second) as f:
        assert len(f["labels"]) == 61 and list(f.attrs["class_names"]) == ["class0", "class1", "class2"]
    assert not [p for p in (cache / "imagefolders").iterdir() if p.suffix != ".h5"]  # no temp file left


def test_lab_data_describes_a_folder(tmp_path, cache):
    tree = image_tree(tmp_path / "tree")
    r = lab_here("data", tree, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import json
    info = json.loads(r.stdout)
    assert info["name"] == "tree" and info["classes"] == ["class0", "class1", "class2"]
    assert info["splits"]["train"]["count"] == 60 and info["splits"]["train"]["class_counts"] == [20, 20, 20]


def test_data_dir_holds_the_cache(tmp_path, cache):
    from lab_workbench.engine.data.folder import folder_h5
    tree = image_tree(tmp_path / "tree")
    out = folder_h5(str(tree), str(tmp_path / "elsewhere"))
    assert out.startswith(str(tmp_path / "elsewhere" / "imagefolders")) and not cache.exists()


def _empty(root):
    root.mkdir()


def _no_class_folders(root):
    from PIL import Image
    root.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "loose.png")


def _corrupt(root):
    image_tree(root)
    (root / "class1" / "bad.png").write_bytes(b"not a png at all")


def _link_loop(root):
    image_tree(root)
    os.symlink(root, root / "class2" / "again")


def _file_link_loop(root):
    image_tree(root)
    os.symlink(root / "class0" / "x.png", root / "class0" / "x.png")


def _mixed_sizes(root):
    from PIL import Image
    image_tree(root)
    Image.fromarray(np.zeros((9, 7), np.uint8)).save(root / "class2" / "odd.png")


@pytest.mark.parametrize("make, expected", [
    (_mixed_sizes, "--size HxW` and train on OUT.h5"),
    (_empty, "tree: no images found"),
    (_no_class_folders, "tree: no images found (expected class_name/"),
    (_corrupt, "bad.png: cannot read image"),
    (_link_loop, "again: a symlink loop"),
    (_file_link_loop, "x.png: a symlink loop"),
])
def test_a_hostile_folder_is_one_line(tmp_path, cache, make, expected):
    make(tmp_path / "tree")
    r = lab_here("train", "--data", tmp_path / "tree", "-e", "1", cwd=tmp_path)
    assert r.returncode == 2 and expected in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not (cache / "imagefolders").exists() or not list((cache / "imagefolders").iterdir())


def test_two_decodes_at_once_leave_one_whole_file(tmp_path, cache):
    from concurrent.futures import ThreadPoolExecutor

    import h5py

    from lab_workbench.engine.data.folder import folder_h5
    tree = image_tree(tmp_path / "tree")
    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(lambda _: folder_h5(str(tree)), range(2)))
    assert outs[0] == outs[1] and [p.name for p in (cache / "imagefolders").iterdir()] == [Path(outs[0]).name]
    with h5py.File(outs[0]) as f:
        assert len(f["labels"]) == 60


def test_a_crash_while_decoding_leaves_no_cache_file(tmp_path, monkeypatch):
    tree = image_tree(tmp_path / "tree")
    env = {"LAB_DATA_DIR": str(tmp_path / "cache")}
    r = subprocess.run(lab_cmd("train", "--data", tree, "-e", "1"), cwd=tmp_path, capture_output=True, text=True,
                       timeout=300, env=lab_env(LAB_CRASH_AT_WRITE="1", **env))
    assert r.returncode == 137 and not cached(tmp_path / "cache")  # killed just before the rename:
    assert [p.name for p in (tmp_path / "cache" / "imagefolders").iterdir()][0].startswith(".tree-")  # a temp
    temp = next((tmp_path / "cache" / "imagefolders").iterdir())
    monkeypatch.setenv("LAB_DATA_DIR", env["LAB_DATA_DIR"])
    r = lab_here("train", "--data", tree, "-e", "1", cwd=tmp_path)  # the crash was the process's; this run is not
    assert r.returncode == 0, r.stderr
    assert len(cached(tmp_path / "cache")) == 1 and temp.exists()  # it might be a live decode's: kept
    os.utime(temp, (0, 0))  # untouched for long: a dead decode's, removed by the next decode
    from PIL import Image
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tree / "class0" / "new.png")
    from lab_workbench.engine.data.folder import folder_h5
    folder_h5(str(tree), str(tmp_path / "cache"))
    assert not temp.exists() and len(list((tmp_path / "cache" / "imagefolders").iterdir())) == 1
