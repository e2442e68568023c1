"""Writes that fail (issue 20, defects 6 and 7): a full disk under `lab convert` and `--png`, a log file and a
stdout that refuse the output. Each is one `error:` line, a non-zero exit, no traceback, no temp file left.

The full disk is a small tmpfs (mounting needs root: skipped elsewhere); /dev/full stands for a stream that
fails on every write."""

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT, lab_cmd, lab_here, mount_tmpfs


@pytest.fixture
def small_disk(tmp_path):
    """A 40 kB tmpfs: too small for an HDF5 of the digits or for a PNG figure."""
    mount = mount_tmpfs(tmp_path / "small", "40k")
    yield mount
    subprocess.run(["umount", str(mount)])


@pytest.fixture
def good_run(trained_runs):
    """This test's own copy of the session's small run (runs/good)."""
    return trained_runs.get("small")


def one_error_line(result, *expected):
    lines = result.stderr.strip().splitlines()
    assert result.returncode not in (0, None) and result.returncode > 0, (result.returncode, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert all(e in lines[0] for e in expected), lines[0]


def test_convert_onto_a_full_disk_is_one_line_and_leaves_nothing(small_disk):
    """It used to print HDF5's traceback from the close after the failed write, then crash (exit 139)."""
    result = subprocess.run(lab_cmd("convert", "digits", small_disk / "digits.h5"), capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    one_error_line(result, "digits.h5", "no space left")
    assert result.returncode == 2 and os.listdir(small_disk) == []


def test_png_onto_a_full_disk_is_one_line_and_leaves_no_partial_file(good_run, small_disk):
    (small_disk / "filler").write_bytes(b"\0" * 36 * 1024)  # the disk nearly full: a figure cannot fit
    result = lab_here("compare", good_run, "--png", small_disk / "figs", cwd=good_run.parent)
    one_error_line(result, ".png", "No space left on device")
    assert [p.name for p in (small_disk / "figs").iterdir()] == []


@pytest.mark.parametrize("command", ["eval", "compare", "inspect-weights"])
def test_png_naming_a_file_is_refused_before_any_work(good_run, tmp_path, command):
    (tmp_path / "afile").write_text("keep")
    extra = ["--hist"] if command == "inspect-weights" else []
    result = lab_here(command, good_run, *extra, "--png", tmp_path / "afile", cwd=tmp_path)
    one_error_line(result, f"--png {tmp_path / 'afile'}: expected a folder")
    assert (tmp_path / "afile").read_text() == "keep"


def test_a_log_file_that_refuses_writes(tmp_path):
    """The run goes on (its folder has everything); the command then says the log could not be written."""
    result = lab_here("train", "--epochs", "1", "--subset", "100", "--runs-dir", tmp_path / "runs", "--name", "r",
                      "--log-file", "/dev/full", cwd=tmp_path)
    one_error_line(result, "--log-file /dev/full: cannot write (No space left on device)")
    assert (tmp_path / "runs" / "r" / "results.json").is_file()


@pytest.mark.parametrize("args", [["models"], ["models", "--json"]])
def test_stdout_that_refuses_writes(args):
    """`lab models > /dev/full`: one line on stderr, exit 2, no 'Exception ignored' at the interpreter's exit."""
    with open("/dev/full", "w") as full:
        result = subprocess.run(lab_cmd(*[a for a in args if a != "--json"]), stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2, result.stderr
    assert result.stderr == "error: cannot write to standard output (No space left on device)\n"


def test_stdout_closed_by_its_reader_is_no_error():
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    result = subprocess.run(lab_cmd("models"), stdout=reader.stdin, stderr=subprocess.PIPE, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    reader.stdin.close()
    reader.wait()
    assert result.returncode == 0 and "Traceback" not in result.stderr


def test_compare_log_y_leaves_nan_rows_out(good_run, tmp_path):
    import shutil
    run = tmp_path / "nan"
    shutil.copytree(good_run, run)
    lines = (run / "metrics.csv").read_text().splitlines()
    head = lines[0].split(",")
    row = lines[1].split(",")
    row[head.index("val_loss")] = "nan"
    (run / "metrics.csv").write_text("\n".join([lines[0], ",".join(row), *lines[1:]]) + "\n")
    result = lab_here("compare", run, good_run, "--metric", "val_loss", "--log-y", cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert sys.modules.get("lab_workbench.commands.compare") is not None
