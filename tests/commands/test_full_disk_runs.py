"""A full disk under the run folder (a real one: a small tmpfs, root only): one line naming the file and
"No space left on device", exit 2, no temp files, no shell of a folder, every earlier file unchanged."""

import os
import shutil
import subprocess
import uuid

import pytest

from lab_workbench.engine import TrainConfig, train
from tests.helpers import lab_errors


@pytest.fixture
def disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", f"lab-test-{uuid.uuid4().hex[:6]}", str(mnt)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.decode().strip()[:80]})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(folder):
    """Take every free byte of the file system that holds `folder`."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 16, 512, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


cli = lab_errors


TRAIN = ("--epochs", "1", "--subset", "64", "--hidden", "4", "-q")


def test_a_fresh_train_on_a_full_disk_is_one_line_and_leaves_no_folder(disk, capsys):
    (disk / "runs").mkdir()
    fill(disk)
    code, err = cli(capsys, "train", "--runs-dir", str(disk / "runs"), "--name", "f", *TRAIN)
    assert code == 2 and len(err) == 1 and "No space left on device" in err[0], err
    assert list((disk / "runs").iterdir()) == []  # not even a folder holding only .lock


def test_a_resume_on_a_full_disk_keeps_every_earlier_file(disk, capsys):
    h = train(TrainConfig(epochs=1, subset=64, hidden=[4], runs_dir=str(disk / "runs"), name="r"))
    before = {p.name: p.read_bytes() for p in sorted(disk.glob("runs/r/*")) if p.is_file()}
    fill(disk)
    code, err = cli(capsys, "train", "--resume", "auto", "--name", "r", "--runs-dir", str(disk / "runs"),
                    "--epochs", "2", "-q")
    assert code == 2 and len(err) == 1 and "No space left on device" in err[0], err
    after = {p.name: p.read_bytes() for p in sorted(disk.glob("runs/r/*")) if p.is_file()}
    assert after == before and not list(disk.glob("runs/r/.*.tmp"))
    code, err = cli(capsys, "eval", h.run_dir)
    assert code == 2 and len(err) == 1 and "No space left on device" in err[0], err
    assert not list(disk.glob("runs/r/**/.*.tmp"))
