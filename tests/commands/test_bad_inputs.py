"""A corpus of bad inputs: each is one `error:` line naming the input, a non-zero exit, no traceback, and
no file of an existing run changed (hashes compared before and after)."""

import hashlib
import json
import traceback

import numpy as np
import pytest
import torch

from lab_workbench.commands.app import main
from tests.commands.bad_data_cases import DATA_CASES, make_data_files
from tests.commands.bad_input_cases import CASES as MORE_CASES, make_more_files
from tests.helpers import make_images, write_h5


def digest(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".lock"}


def lab(args, capsys):
    """(exit code, stderr) of `lab ARGS` in-process; a traceback fails the test with its text."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as e:
        code = e.code
    except BaseException:
        pytest.fail("traceback:\n" + traceback.format_exc())
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def corpus(trained_runs, tmp_path_factory):
    """A folder with one good run and bad files of every kind."""
    d = tmp_path_factory.mktemp("corpus")
    trained_runs.get("small", into=d)  # runs/good
    images, labels = make_images(60)
    write_h5(d / "ok.h5", images, labels)
    (d / "fake.h5").write_text("not hdf5 at all")
    (d / "truncated.h5").write_bytes((d / "ok.h5").read_bytes()[:300])
    write_h5(d / "keys.h5", images, labels, images_key="x", labels_key="y")
    write_h5(d / "flat.h5", images.reshape(60, -1)[:, 0], labels)
    write_h5(d / "floatlabels.h5", images, labels + 0.5)
    write_h5(d / "negative.h5", images, labels - 1)
    nan = images.astype(np.float32)
    nan[0, 0, 0] = np.nan
    write_h5(d / "nan.h5", nan, labels)
    write_h5(d / "empty.h5", images[:0], labels[:0])
    write_h5(d / "mismatch.h5", images, labels[:50])
    write_h5(d / "oneclass.h5", images, np.zeros_like(labels))
    write_h5(d / "strlabels.h5", images, np.array([str(v) for v in labels], dtype="S2"))
    write_h5(d / "names.h5", images, labels + 2, class_names=["a", "b", "c"])
    write_h5(d / "testonly.h5", images, labels % 2, test=(images[:10], np.full(10, 2)))
    (d / "afile").write_text("a file where a folder should be")
    for name, content in [("listcfg", "[1, 2]"), ("badjson", "{not json"), ("nonutf8", b"\xff\xfe{}")]:
        run = d / "runs" / name
        run.mkdir()
        (run / "config.json").write_bytes(content if isinstance(content, bytes) else content.encode())
    garbage = d / "runs" / "garbage"
    garbage.mkdir()
    (garbage / "config.json").write_text((d / "runs" / "good" / "config.json").read_text())
    (garbage / "last.pt").write_bytes(b"PK\x03\x04 broken zip")
    nokeys = d / "runs" / "nokeys"
    nokeys.mkdir()
    (nokeys / "config.json").write_text((d / "runs" / "good" / "config.json").read_text())
    torch.save({"model_state_dict": {}}, nokeys / "last.pt")
    from safetensors.torch import save_file
    save_file({"w": torch.zeros(2)}, str(d / "nometa.safetensors"))
    save_file({"w": torch.zeros(2)}, str(d / "badmeta.safetensors"), metadata={"lab": "{not json"})
    save_file({"w": torch.zeros(2)}, str(d / "listmeta.safetensors"), metadata={"lab": "[1]"})
    (d / "outdir.h5").mkdir()
    np.savez(d / "ok.npz", images=images, labels=labels)
    make_more_files(d)
    make_data_files(d)
    return d


CASES = [
    # (id, arguments, what the one error line must contain)
    ("missing-h5", ["train", "--data", "{d}/missing.h5"], "missing.h5: file not found"),
    ("fake-h5", ["train", "--data", "{d}/fake.h5"], "fake.h5: not a readable HDF5 file"),
    ("truncated-h5", ["train", "--data", "{d}/truncated.h5"], "truncated.h5: not a readable HDF5 file"),
    ("wrong-keys", ["train", "--data", "{d}/keys.h5"], "no dataset 'images'"),
    ("wrong-shape", ["train", "--data", "{d}/flat.h5"], "images must have shape"),
    ("float-labels", ["train", "--data", "{d}/floatlabels.h5"], "labels must be integers"),
    ("string-labels", ["train", "--data", "{d}/strlabels.h5"], "labels must be integers"),
    ("negative-labels", ["train", "--data", "{d}/negative.h5"], "labels must be >= 0"),
    ("labels-beyond-names", ["train", "--data", "{d}/names.h5"], "class names"),
    ("nan-pixels", ["train", "--data", "{d}/nan.h5"], "NaN"),
    ("empty", ["train", "--data", "{d}/empty.h5"], "no samples"),
    ("count-mismatch", ["train", "--data", "{d}/mismatch.h5"], "60 images but 50 labels"),
    ("one-class", ["train", "--data", "{d}/oneclass.h5"], "one class"),
    ("zero-epochs", ["train", "--epochs", "0"], "--epochs: expected an integer >= 1"),
    ("negative-epochs", ["train", "--epochs", "-3"], "--epochs"),
    ("zero-batch", ["train", "--batch-size", "0"], "--batch-size: expected an integer >= 1"),
    ("zero-lr", ["train", "--lr", "0"], "--lr: expected a positive number"),
    ("nan-lr", ["train", "--lr", "nan"], "--lr: expected a finite number"),
    ("text-lr", ["train", "--lr", "fast"], "--lr: expected a finite number, got 'fast'"),
    ("unknown-model", ["train", "--model", "vit"], "--model: expected one of"),
    ("unknown-dataset", ["train", "--dataset", "imagenet"], "--dataset: expected one of"),
    ("unknown-optimizer", ["train", "--optimizer", "lbfgs"], "--optimizer"),
    ("one-class-flag", ["train", "--classes", "3"], "--classes: expected at least two"),
    ("val-split", ["train", "--val-split", "1.5"], "--val-split"),
    ("unknown-flag", ["train", "--frobnicate"], "--frobnicate"),
    ("name-slash", ["train", "--name", "a/b"], "--name: expected a plain folder name"),
    ("name-dotdot", ["train", "--name", ".."], "--name: expected a plain folder name"),
    ("runs-dir-is-a-file", ["train", "--runs-dir", "{d}/afile"], "afile"),
    ("resume-missing", ["train", "--resume", "{d}/runs/nope"], "nope: run folder not found"),
    ("resume-foreign", ["train", "--resume", "{d}"], "not a run folder"),
    ("resume-list-config", ["train", "--resume", "{d}/runs/listcfg"], "config.json: expected a JSON object"),
    ("resume-bad-json", ["train", "--resume", "{d}/runs/badjson"], "config.json: not valid JSON"),
    ("resume-non-utf8", ["train", "--resume", "{d}/runs/nonutf8"], "config.json: not valid JSON"),
    ("resume-garbage-pt", ["train", "--resume", "{d}/runs/garbage", "--epochs", "3"], "last.pt"),
    ("resume-keyless-pt", ["train", "--resume", "{d}/runs/nokeys", "--epochs", "3"], "last.pt"),
    ("resume-new-arch", ["train", "--resume", "{d}/runs/good", "--hidden", "8"], "--hidden: cannot change"),
    ("resume-fewer-epochs", ["train", "--resume", "{d}/runs/good", "--epochs", "1"], "--epochs 1: the run already"),
    ("eval-list-config", ["eval", "{d}/runs/listcfg"], "listcfg"),
    ("eval-safetensors-no-meta", ["eval", "{d}/nometa.safetensors"], "no lab metadata"),
    ("eval-safetensors-bad-meta", ["eval", "{d}/badmeta.safetensors"], "badmeta.safetensors"),
    ("eval-safetensors-list-meta", ["eval", "{d}/listmeta.safetensors"], "listmeta.safetensors"),
    ("convert-onto-a-folder", ["convert", "{d}/ok.npz", "{d}/outdir.h5", "--force"], "outdir.h5: is a folder"),
    ("convert-missing", ["convert", "{d}/nothere.npz", "{d}/new.h5"], "nothere.npz"),
    ("time-limit", ["train", "--time-limit", "soon"], "--time-limit"),
] + MORE_CASES + DATA_CASES


@pytest.mark.parametrize("args, expected, env", [(*c[1:3], c[3] if len(c) > 3 else {}) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(corpus, capsys, monkeypatch, args, expected, env):
    """Nothing in the corpus folder (the runs and every other file) is changed, added or removed."""
    monkeypatch.chdir(corpus)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    before = digest(corpus)
    args = [a.format(d=corpus) for a in args]
    if args[0] in ("train", "lr-find") and "--runs-dir" not in args:
        args += ["--runs-dir", str(corpus / "runs")]
    code, err = lab(args, capsys)
    lines = err.strip().splitlines()
    assert code not in (0, None), err
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected.format(d=corpus) in lines[0], err
    assert "Traceback" not in err
    assert digest(corpus) == before


def test_a_decompression_bomb_png_is_refused(tmp_path, capsys):
    from PIL import Image
    folder = tmp_path / "imgs" / "cat"
    folder.mkdir(parents=True)
    Image.new("L", (8, 8)).save(folder / "ok.png")
    Image.new("1", (20000, 20000)).save(folder / "bomb.png")  # 400 megapixels, a few kB on disk
    (tmp_path / "imgs" / "dog").mkdir()
    Image.new("L", (8, 8)).save(tmp_path / "imgs" / "dog" / "ok.png")
    code, err = lab(["convert", tmp_path / "imgs", tmp_path / "out.h5"], capsys)
    assert code == 2 and "bomb.png" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.h5").exists()


def test_an_imagefolder_class_name_that_is_not_utf8(tmp_path, capsys):
    from PIL import Image
    import os
    root = tmp_path / "imgs"
    root.mkdir()
    for name in (b"caf\xe9", b"dog"):
        d = os.path.join(os.fsencode(root), name)
        os.mkdir(d)
        Image.new("L", (8, 8)).save(os.path.join(os.fsdecode(d), "a.png"))
    code, err = lab(["convert", root, tmp_path / "out.h5"], capsys)
    assert code in (0, 2), err
    if code == 0:
        import h5py
        with h5py.File(tmp_path / "out.h5") as f:
            names = [n.decode() if isinstance(n, bytes) else n for n in f.attrs["class_names"]]
        assert "caf\ufffd" in names or "caf\\xe9" in names
    json.dumps(err)  # whatever it says is printable text


def test_test_labels_unseen_in_training_are_a_warning(tmp_path, capsys):
    images, labels = make_images(60)
    write_h5(tmp_path / "t.h5", images, labels % 2, test=(images[:10], np.full(10, 2)))
    code, err = lab(["train", "--data", tmp_path / "t.h5", "--epochs", "1", "--runs-dir", tmp_path / "runs"], capsys)
    assert code == 0 and "warning: t: test labels [2] never occur in the training data" in err


@pytest.fixture
def readonly_dir(tmp_path):
    """A folder nobody may write into, root included (chattr +i), or a skip where that is not possible."""
    import os
    import subprocess
    d = tmp_path / "ro"
    d.mkdir()
    made = subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode == 0
    if not made:
        d.chmod(0o555)
    try:
        (d / "probe").touch()
        (d / "probe").unlink()
        pytest.skip("cannot make a read-only folder here")
    except OSError:
        pass
    yield d
    if made:
        subprocess.run(["chattr", "-i", str(d)])
    d.chmod(0o755)
    assert not os.listdir(d)


def test_writing_into_a_read_only_folder_is_one_line_and_leaves_nothing(corpus, readonly_dir, capsys):
    cases = [
        (["convert", corpus / "ok.npz", readonly_dir / "out.h5"], "out.h5: cannot write"),
        (["export", corpus / "runs" / "good", "--format", "safetensors", "--out", readonly_dir / "m.safetensors"],
         "m.safetensors"),
        (["train", "--epochs", "1", "--runs-dir", readonly_dir], "cannot create a run folder"),
    ]
    for args, expected in cases:
        code, err = lab(args, capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and expected in lines[0], (args, err)


def test_a_checkpoint_whose_config_is_a_list(tmp_path, corpus, capsys):
    state = torch.load(corpus / "runs" / "good" / "best.pt", weights_only=True)
    state["config"] = [1, 2]
    torch.save(state, tmp_path / "odd.pt")
    code, err = lab(["eval", tmp_path / "odd.pt"], capsys)
    assert code == 2 and "expected a JSON object" in err and len(err.strip().splitlines()) == 1


def test_eval_of_a_run_in_a_read_only_folder(tmp_path, corpus, capsys):
    import shutil
    import subprocess
    run = tmp_path / "good"
    shutil.copytree(corpus / "runs" / "good", run)
    if subprocess.run(["chattr", "+i", str(run)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        code, err = lab(["eval", run], capsys)
    finally:
        subprocess.run(["chattr", "-i", str(run)])
    assert code == 2 and "eval" in err and "cannot" in err and len(err.strip().splitlines()) == 1
