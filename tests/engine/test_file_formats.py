"""One table of file formats by suffix (engine.data.formats.FILE_FORMATS) behind every entry point that takes a
file: each suffix in it is read by each entry point that takes its format, and a suffix outside it is the
same one-line error everywhere."""

import numpy as np
import pytest
from PIL import Image

from lab_workbench.engine.data.formats import FILE_FORMATS
from lab_workbench.engine.core.errors import DataError
from tests.helpers import lab_here, make_images, write_h5

# what each entry point should take: the spec this test holds the code to
TAKES = {"read_source": {"hdf5"}, "detect_source": {"npz", "npy"}, "read_inputs": {"image", "npy", "hdf5"},
         "lab data": {"hdf5", "npz", "npy"}}


def make_file(folder, suffix):
    """A small valid file of the format FILE_FORMATS gives `suffix`, named with it."""
    images, labels = make_images(12)
    fmt, path = FILE_FORMATS[suffix], folder / f"images{suffix}"
    if fmt == "hdf5":
        write_h5(path, images, labels)
    elif fmt == "npz":
        with open(path, "wb") as f:
            np.savez(f, images=images, labels=labels)
    elif fmt == "npy":
        with open(path, "wb") as f, open(folder / f"labels{suffix}", "wb") as g:
            np.save(f, images), np.save(g, labels)  # convert reads the labels beside: images -> labels
    else:
        Image.fromarray(images[0]).save(path)
    return path


def read(entry, path):
    """Read `path` through `entry`; its DataError's text when refused."""
    from lab_workbench.commands.data import read_any
    from lab_workbench.engine.data.convert import detect_source
    from lab_workbench.engine.data.inputs import read_inputs
    from lab_workbench.engine.data.sources import read_source
    try:
        if entry == "read_source":
            return read_source("digits", data=str(path)).train_x.shape[0]
        if entry == "detect_source":
            return detect_source(str(path)).splits["train"].count
        if entry == "read_inputs":
            got = read_inputs([str(path)], (1, 8, 8), [0.0], [1.0])
            if got.errors:
                raise DataError(got.errors[0])
            return len(got.x)
        return read_any(str(path), None, "images", "labels")[0].train_x.shape[0]
    except DataError as e:
        return str(e)


@pytest.mark.parametrize("suffix", list(FILE_FORMATS))
def test_every_suffix_is_read_by_every_entry_point_that_takes_its_format(tmp_path, suffix):
    path = make_file(tmp_path, suffix)
    for entry, formats in TAKES.items():
        got = read(entry, path)
        if FILE_FORMATS[suffix] in formats:
            assert isinstance(got, int) and got >= 1, (entry, got)
        else:  # a known format an entry point does not take: it says what it takes
            assert isinstance(got, str) and got.startswith(f"{path}: ") and f"not {suffix}" in got, (entry, got)


def test_upper_case_suffixes_are_the_same_format(tmp_path):
    path = make_file(tmp_path, ".h5").rename(tmp_path / "images.H5")
    assert read("read_source", path) == 12


@pytest.mark.parametrize("name", ["notes.txt", "images.h6", "images"])
def test_an_unknown_suffix_is_the_same_error_at_every_entry_point(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x89HDF\r\n")
    errors = {entry: read(entry, path) for entry in TAKES}
    assert len(set(errors.values())) == 1, errors
    line = errors["read_source"]
    assert line.startswith(f"{path}: unknown file type ") and "\n" not in line and ".h5" in line


def test_the_cli_gives_that_line_too(tmp_path):
    """lab train --data, lab convert and lab data: exit 2 and one line, the engine's (lab predict's reader is
    read_inputs above: an unreadable input is a line in its error list)."""
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    expected = read("read_source", path)
    for argv in (["train", "--data", path, "-e", "1"], ["convert", path, tmp_path / "out.h5"], ["data", path]):
        r = lab_here(*argv, cwd=tmp_path)
        assert r.returncode == 2 and r.stderr.strip() == f"error: {expected}", (argv, r.stderr)
