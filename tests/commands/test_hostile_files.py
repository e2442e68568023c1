"""Hostile files (issue 32, points 2-4): nothing is read or written outside what the user named, damaged data
is never used silently, and no file, size or environment variable makes lab hang or take all memory."""

import json
import os

import h5py
import numpy as np
import pytest

from tests.helpers import lab_errors, lab_here, make_images, write_h5


def one_error(code, lines, *expected):
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert all(e in lines[0] for e in expected), lines


# ---- point 2: no write through a symlinked run folder, no read through an HDF5 link ----

@pytest.fixture
def linked_run(trained_runs, tmp_path):
    """runs/linked: a symlink to a real run folder kept outside the runs folder."""
    real = trained_runs.get("small", into=tmp_path / "outside")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "linked").symlink_to(real)
    return tmp_path / "runs" / "linked", real


@pytest.mark.parametrize("args", [["eval"], ["export", "--format", "safetensors"]], ids=["eval", "export"])
def test_a_symlinked_run_folder_is_not_written_into(linked_run, capsys, args):
    link, real = linked_run
    before = sorted(p.name for p in real.iterdir())
    code, lines = lab_errors(capsys, *args, str(link))
    one_error(code, lines, "linked", "symlink")
    assert sorted(p.name for p in real.iterdir()) == before


def test_a_symlinked_tb_folder_is_not_written_through(trained_runs, tmp_path):
    from lab_workbench.engine.trackers.tensorboard import TensorBoardTracker
    from lab_workbench.engine.contract.events import RunStarted
    from lab_workbench.engine.core.errors import CheckpointError
    run = trained_runs.get("small", into=tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (run / "tb").symlink_to(outside)
    tracker = TensorBoardTracker(None, run, {})
    with pytest.raises(CheckpointError, match="symlink"):
        tracker(RunStarted(config={}, run_dir=str(run), n_params=1, device="cpu", dataset={}))
    assert list(outside.iterdir()) == []


def _outside_h5(kind, d):
    """A .h5 whose images lie in another file, by an external link, external storage or a virtual dataset."""
    images, labels = make_images(60)
    other = write_h5(d / "other.h5", images, labels)
    path = d / f"{kind}.h5"
    with h5py.File(path, "w") as f:
        if kind == "link":
            f["images"] = h5py.ExternalLink(str(other), "images")
        elif kind == "storage":
            raw = d / "pixels.bin"
            raw.write_bytes(images.tobytes())
            f.create_dataset("images", shape=images.shape, dtype=np.uint8, external=[(str(raw), 0, images.nbytes)])
        else:
            layout = h5py.VirtualLayout(shape=images.shape, dtype=np.uint8)
            layout[:] = h5py.VirtualSource(str(other), "images", shape=images.shape)
            f.create_virtual_dataset("images", layout)
        f["labels"] = labels
    return path


OUTSIDE_KINDS = ["link", "storage", "virtual"]
OUTSIDE_COMMANDS = {
    "train": lambda h5, d: ["train", "--data", h5, "--epochs", "1", "--runs-dir", d / "runs"],
    "stream": lambda h5, d: ["train", "--data", h5, "--stream", "--epochs", "1", "--runs-dir", d / "runs"],
    "eval": lambda h5, d: ["eval", d / "runs" / "good", "--data", h5],
    "predict": lambda h5, d: ["predict", d / "runs" / "good", h5],
    "data": lambda h5, d: ["data", h5],
}


@pytest.fixture(scope="module")
def outside_files(trained_runs, tmp_path_factory):
    d = tmp_path_factory.mktemp("outside")
    trained_runs.get("small", into=d)
    return d, {kind: _outside_h5(kind, d) for kind in OUTSIDE_KINDS}


@pytest.mark.parametrize("command", OUTSIDE_COMMANDS)
@pytest.mark.parametrize("kind", OUTSIDE_KINDS)
def test_an_h5_reading_other_files_is_refused(outside_files, capsys, command, kind):
    d, files = outside_files
    code, lines = lab_errors(capsys, *map(str, OUTSIDE_COMMANDS[command](files[kind], d)))
    assert code != 0 and any(f"{kind}.h5" in line and "--allow-external-h5" in line for line in lines), lines
    assert not (d / "runs" / "good" / "eval").exists()


@pytest.mark.parametrize("kind", OUTSIDE_KINDS)
def test_allow_external_h5_reads_them(outside_files, kind):
    from lab_workbench.engine.data.sources import load_hdf5
    d, files = outside_files
    raw = load_hdf5(files[kind], allow_external=True)
    assert raw.train_x.shape == (60, 8, 8) and raw.train_x.any()


# ---- point 3: damaged data is never used silently ----

def flip_chunk_bytes(path, key="images", count=200):
    """Flip `count` bytes in the middle of the first stored chunk of `key` (the compressed bytes on disk)."""
    with h5py.File(path, "r") as f:
        info = f[key].id.get_chunk_info(0)
    start = info.byte_offset + info.size // 2 - count // 2
    with open(path, "r+b") as fh:
        fh.seek(start)
        data = bytearray(fh.read(count))
        fh.seek(start)
        fh.write(bytes(b ^ 0xFF for b in data))


@pytest.fixture(scope="module")
def damaged_h5(trained_runs, tmp_path_factory):
    """A file written by `lab convert` (10 classes of 8x8 images, as the good run takes), then damaged."""
    d = tmp_path_factory.mktemp("damaged")
    trained_runs.get("small", into=d)
    images, labels = make_images(600, classes=10)
    np.savez(d / "ok.npz", images=images, labels=labels)
    code, lines = lab_errors_quiet(["convert", d / "ok.npz", d / "damaged.h5"])
    assert code == 0, lines
    flip_chunk_bytes(d / "damaged.h5")
    return d


def lab_errors_quiet(args):
    """(exit code, stderr lines) of `lab ARGS` in this process, its stdout dropped."""
    r = lab_here(*args, cwd=os.getcwd())
    return r.returncode, r.stderr.strip().splitlines()


DAMAGED_COMMANDS = {
    "train": lambda d: ["train", "--data", d / "damaged.h5", "--epochs", "1", "--runs-dir", d / "runs"],
    "stream": lambda d: ["train", "--data", d / "damaged.h5", "--stream", "--epochs", "1", "--runs-dir", d / "runs"],
    "eval": lambda d: ["eval", d / "runs" / "good", "--data", d / "damaged.h5", "--split", "train"],
    "predict": lambda d: ["predict", d / "runs" / "good", d / "damaged.h5"],
}


@pytest.mark.parametrize("command", DAMAGED_COMMANDS)
def test_a_converted_file_with_flipped_bytes_is_an_error(damaged_h5, capsys, command):
    """At load time (train reads the whole file, a stream its statistics): the file is named as damaged."""
    code, lines = lab_errors(capsys, *map(str, DAMAGED_COMMANDS[command](damaged_h5)))
    errors = [line for line in lines if line.startswith("error: ")]
    assert code != 0 and errors and "damaged.h5" in errors[0] and "damaged" in errors[0].split("damaged.h5")[1], lines


def test_a_stream_damaged_under_a_run_names_the_epoch_and_batch(tmp_path):
    """A resumed streamed run reads no statistics first: the damaged chunk is met by a batch, and named so."""
    images, labels = make_images(600, classes=10)
    np.savez(tmp_path / "ok.npz", images=images, labels=labels)
    h5 = tmp_path / "a.h5"
    assert lab_errors_quiet(["convert", tmp_path / "ok.npz", h5])[0] == 0
    runs = tmp_path / "runs"
    assert lab_errors_quiet(["train", "--data", h5, "--stream", "-e", "1", "--name", "s", "--runs-dir", runs])[0] == 0
    flip_chunk_bytes(h5)
    code, lines = lab_errors_quiet(["train", "--resume", runs / "s", "-e", "2", "-q"])
    assert code == 2 and lines[-1].startswith("error: ") and "a.h5" in lines[-1], lines
    assert "damaged" in lines[-1] and "at epoch 2, batch 1" in lines[-1], lines


def _flip_byte(path, where=0.5):
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0x01
    path.write_bytes(bytes(data))


def test_init_from_a_damaged_checkpoint_is_refused(trained_runs, tmp_path, capsys):
    run = trained_runs.get("small", into=tmp_path)
    _flip_byte(run / "best.pt")
    code, lines = lab_errors(capsys, "train", "--init-from", str(run), "--epochs", "1", "--subset", "100",
                             "--runs-dir", str(tmp_path / "new"))
    one_error(code, lines, "--init-from", "best.pt", "damaged")
    assert not (tmp_path / "new").exists()


# ---- point 4: every file read with a size limit, only a regular file (or a pipe the user named) ----

@pytest.fixture
def deadline():
    """Fail (instead of hanging the suite) when the block takes more than 30 s: a blocked open() of a named
    pipe is interrupted by the alarm."""
    import signal

    def expired(*_):
        raise TimeoutError("lab hung")
    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, 30)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)


def _bomb(d):
    lines = ["extra:", "  a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):  # 10^9 items in all, a few hundred bytes on disk
        lines.append(f"  {chr(97 + i)}: &{chr(97 + i)} [{', '.join([f'*{chr(96 + i)}'] * 10)}]")
    lines.append("lr: *i")
    (d / "bomb.yaml").write_text("\n".join(lines) + "\n")
    return d / "bomb.yaml"


CONFIG_FILES = {
    "fifo": (lambda d: os.mkfifo(d / "c.yaml") or d / "c.yaml", "named pipe"),
    "dev-zero": (lambda d: "/dev/zero", "not a regular file"),
    "link-to-dev-zero": (lambda d: (d / "z.yaml").symlink_to("/dev/zero") or d / "z.yaml", "not a regular file"),
    "big-yaml": (lambda d: (d / "b.yaml").write_text("hidden: [" + "1, " * 700_000 + "1]\n") and d / "b.yaml",
                 "larger than"),
    "big-toml": (lambda d: (d / "b.toml").write_text("hidden = [" + "1, " * 700_000 + "1]\n") and d / "b.toml",
                 "larger than"),
    "alias-bomb": (_bomb, "more than 10,000 items"),
    "long-list": (lambda d: (d / "l.yaml").write_text("lr: [" + "1, " * 50_000 + "1]\n") and d / "l.yaml",
                  "more than 10,000 items"),
}


@pytest.mark.parametrize("case", CONFIG_FILES)
def test_a_hostile_config_file_is_one_line_at_once(tmp_path, capsys, monkeypatch, deadline, case):
    make, expected = CONFIG_FILES[case]
    monkeypatch.setattr("lab_workbench.engine.core.files.PIPE_WAIT", 0.2)
    path = make(tmp_path)
    code, lines = lab_errors(capsys, "train", "--config", str(path), "--runs-dir", str(tmp_path / "runs"))
    one_error(code, lines, str(path), expected)
    assert len(lines[0]) < 500
    assert not (tmp_path / "runs").exists()


def test_a_config_from_a_pipe_the_user_gave_is_read(tmp_path, deadline):
    import threading
    from lab_workbench.engine.launch.configfile import read_config_file
    pipe = tmp_path / "c.yaml"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_text("lr: 0.5\n"))
    writer.start()
    assert read_config_file(pipe)["lr"] == 0.5
    writer.join()


def test_a_log_file_that_is_a_pipe_nobody_reads(tmp_path, capsys, deadline):
    os.mkfifo(tmp_path / "log")
    code, lines = lab_errors(capsys, "train", "--log-file", str(tmp_path / "log"), "--runs-dir", str(tmp_path / "runs"))
    one_error(code, lines, "--log-file", "named pipe")


RUN_FILES = {
    "metrics-fifo": ("metrics.csv", lambda p: os.mkfifo(p)),
    "progress-fifo": ("progress.json", lambda p: os.mkfifo(p)),
    "results-fifo": ("results.json", lambda p: os.mkfifo(p)),
    "results-dev-zero": ("results.json", lambda p: p.symlink_to("/dev/zero")),
    "metrics-dev-zero": ("metrics.csv", lambda p: p.symlink_to("/dev/zero")),
    "checkpoints-dev-zero": ("checkpoints.json", lambda p: p.symlink_to("/dev/zero")),
}


@pytest.mark.parametrize("case", RUN_FILES)
def test_one_hostile_run_file_never_freezes_lab_runs(trained_runs, tmp_path, capsys, deadline, case):
    name, make = RUN_FILES[case]
    good = trained_runs.get("small", into=tmp_path)
    bad = trained_runs.get("small", into=tmp_path / "b")
    (bad / name).unlink(missing_ok=True)
    make(bad / name)
    bad.rename(tmp_path / "runs" / "bad")
    from lab_workbench.commands.app import main
    main(["runs", "--runs-dir", str(tmp_path / "runs"), "--json"])  # a SystemExit or a hang fails the test
    out = capsys.readouterr()
    assert {good.name, "bad"} <= {r["name"] for r in json.loads(out.out)}, out.out


# ---- leftover cluster variables: one error within seconds ----

@pytest.fixture
def clean_env(monkeypatch):
    """The environment restored after the test (the trainer adds the torch variables srun's imply)."""
    saved = dict(os.environ)
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "SLURM_NTASKS", "SLURM_PROCID"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr("lab_workbench.engine.training.distributed.JOIN_SECONDS", 1.0)
    yield
    os.environ.clear()
    os.environ.update(saved)


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


LEFTOVERS = {
    "torch-rank-1": {"WORLD_SIZE": "2", "RANK": "1"},
    "torch-rank-1-with-master": {"WORLD_SIZE": "2", "RANK": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "free"},
    "torch-rank-0": {"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "free"},
    "slurm": {"SLURM_NTASKS": "2", "SLURM_PROCID": "0", "SLURM_JOB_NODELIST": "localhost", "MASTER_PORT": "free"},
}


@pytest.mark.parametrize("case", LEFTOVERS)
def test_leftover_cluster_variables_are_one_error_at_once(tmp_path, capsys, clean_env, deadline, case):
    for k, v in LEFTOVERS[case].items():
        os.environ[k] = _free_port() if v == "free" else v
    code, lines = lab_errors(capsys, "train", "--epochs", "1", "--subset", "100", "--runs-dir", str(tmp_path / "runs"))
    one_error(code, lines, "WORLD_SIZE=2", "unset them")


# ---- sizes that build something: checked against memory before they are built ----

GB = 1 << 30


@pytest.fixture
def budget(monkeypatch):
    """A fake memory budget of 8 GB, whatever the machine has."""
    monkeypatch.setattr("lab_workbench.engine.runtime.memory.available_memory", lambda: 8 * GB)


SIZES = {
    "cnn-layers": (["train", "-m", "cnn", "-L", "4294967296"], "--layers-per-block"),
    "vit-h-14": (["train", "-m", "tv:vit_h_14"], "tv:vit_h_14"),
    "regnet-y-128gf": (["train", "-m", "tv:regnet_y_128gf"], "tv:regnet_y_128gf"),
    "lr-find-steps": (["lr-find", "--steps", "100000000000000000000"], "--steps"),
}


@pytest.mark.parametrize("case", SIZES)
def test_a_size_beyond_memory_is_refused_before_it_is_built(tmp_path, capsys, budget, deadline, case):
    pytest.importorskip("torchvision")
    args, expected = SIZES[case]
    extra = ["--runs-dir", str(tmp_path / "runs")] if args[0] == "train" else []
    code, lines = lab_errors(capsys, *args, "--epochs", "1", "--subset", "100", *extra)
    one_error(code, lines, expected)
    assert not (tmp_path / "runs").exists()


def test_a_checkpoint_naming_a_huge_model_over_small_weights(trained_runs, tmp_path, capsys, monkeypatch, deadline):
    """config.model says tv:vit_h_14 (632M parameters) over an MLP's weights: the shapes are compared on the
    meta device, so the real model is never built."""
    pytest.importorskip("torchvision")
    import torch
    from lab_workbench.engine.runs.checkpoint import save_checkpoint
    monkeypatch.setattr("lab_workbench.engine.runtime.memory.available_memory", lambda: 64 * GB)
    run = trained_runs.get("small", into=tmp_path)
    state = torch.load(run / "best.pt", weights_only=True)
    state["config"]["model"] = "tv:vit_h_14"
    state.pop("format_version", None)
    save_checkpoint(tmp_path / "huge.pt", state)
    built = []
    real = torch.nn.Linear.__init__

    def spy(self, *a, **kw):
        if kw.get("device") is None and torch.get_default_device().type != "meta":
            built.append(a)
        real(self, *a, **kw)
    monkeypatch.setattr(torch.nn.Linear, "__init__", spy)
    code, lines = lab_errors(capsys, "eval", str(tmp_path / "huge.pt"))
    one_error(code, lines, "huge.pt", "does not match the model")
    assert len(built) < 10, "the huge model was built before its shapes were checked"


def test_an_onnx_claiming_a_huge_input_is_refused(trained_runs, tmp_path, capsys, budget):
    pytest.importorskip("onnx")
    import onnx
    run = trained_runs.get("small", into=tmp_path)
    code, lines = lab_errors(capsys, "export", str(run), "--format", "onnx")
    assert code == 0, lines
    model = onnx.load(str(run / "export" / "model.onnx"))
    for p in model.metadata_props:
        if p.key == "lab":
            info = json.loads(p.value)
            info["data"]["input_shape"] = [3, 65536, 65536]
            info["data"]["mean"], info["data"]["std"] = [0.5] * 3, [0.5] * 3
            p.value = json.dumps(info)
    onnx.save(model, str(tmp_path / "huge.onnx"))
    np.save(tmp_path / "x.npy", np.zeros((8, 8), np.uint8))
    code, lines = lab_errors(capsys, "predict", str(tmp_path / "huge.onnx"), str(tmp_path / "x.npy"))
    one_error(code, lines, "huge.onnx", "3, 65536, 65536")


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_an_idx_file_that_is_a_pipe_or_a_device(tmp_path, capsys, deadline, kind):
    from tests.helpers import write_idx
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images, labels = make_images(20)
    for split in ("train", "t10k"):
        write_idx(raw / f"{split}-labels-idx1-ubyte", labels)
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
    bad = raw / "train-images-idx3-ubyte"
    bad.unlink()
    os.mkfifo(bad) if kind == "fifo" else bad.symlink_to("/dev/zero")
    code, lines = lab_errors(capsys, "data", "mnist", "--data-dir", str(tmp_path))
    one_error(code, lines, "train-images-idx3-ubyte", "not a regular file")
