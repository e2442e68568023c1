"""The parts of labtui that must keep working once its terminal is gone (tui/driver.py, tui/headless.py)."""

import errno
import signal
import threading

import pytest

from textual.drivers._writer_thread import WriterThread

from lab_workbench.tui.driver import SurvivingWriterThread
from lab_workbench.tui.headless import MAIN_THREAD_SIGNALS, block_main_thread_signals


class HungUpTerminal:
    """What a terminal whose connection dropped does with a write."""

    def write(self, text):
        raise OSError(errno.EIO, "Input/output error")

    def flush(self):
        raise OSError(errno.EIO, "Input/output error")

    def fileno(self):
        return 1


def writes_finish(writer_class) -> bool:
    """Whether 1,000 writes (a few seconds of screen updates) return while the output thread meets EIO."""
    writer = writer_class(HungUpTerminal())
    writer.start()
    done = threading.Event()

    def draw():
        for _ in range(1000):
            writer.write("x")
        done.set()
    threading.Thread(target=draw, daemon=True).start()
    finished = done.wait(5)
    if finished:
        writer.stop()
    return finished


def test_the_output_thread_outlives_a_hung_up_terminal():
    assert writes_finish(SurvivingWriterThread)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # its thread dies on EIO
def test_textuals_own_output_thread_is_why_labtui_hung():
    """The defect the driver works around: the main thread blocks for ever on the queue of a dead writer."""
    assert not writes_finish(WriterThread)


def test_threads_that_labtui_starts_leave_the_stop_signals_to_the_main_thread():
    masks = {}

    def thread():
        block_main_thread_signals()
        masks["after"] = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        child = threading.Thread(target=lambda: masks.update(child=signal.pthread_sigmask(signal.SIG_BLOCK, [])))
        child.start()
        child.join()
    t = threading.Thread(target=thread)
    t.start()
    t.join()
    assert MAIN_THREAD_SIGNALS <= masks["after"] and MAIN_THREAD_SIGNALS <= masks["child"]
    assert not MAIN_THREAD_SIGNALS & signal.pthread_sigmask(signal.SIG_BLOCK, [])  # this thread is untouched
