"""Run operations in the engine (issue 31 point 3): one reading of a .lock record, deleting a run, and
resuming one (incl. --resume auto), as both faces do them."""

import fcntl
import os

import pytest

from engine.errors import CheckpointError
from engine.runs import RunLock
from engine.runs.lock import parse_holder


@pytest.mark.parametrize("record", ["not a pid\n", "²³ host\n", "123 host extra\n", "0 host\n", "-5 host\n"])
def test_a_lock_record_that_names_no_process_is_another_process(tmp_path, record):
    (tmp_path / ".lock").write_text(record)
    fd = os.open(tmp_path / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another holder, whose record makes no sense
    try:
        with pytest.raises(CheckpointError, match="in use by another process;"):
            RunLock(tmp_path).acquire()
    finally:
        os.close(fd)
    assert parse_holder(record) is None


def test_a_lock_record_names_its_holder(tmp_path):
    (tmp_path / ".lock").write_text("4242 somehost\n")
    fd = os.open(tmp_path / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with pytest.raises(CheckpointError, match="in use by pid 4242 on somehost;"):
            RunLock(tmp_path).acquire()
    finally:
        os.close(fd)
