"""labtui whose trainer stalls in one phase, so that a test can send a signal there (run as a subprocess):

    python stalled_labtui.py PHASE MARKER [LABTUI FLAGS]

PHASE is loading (before engine.train), batch (before batch 4 of epoch 2: mid-epoch, 9 batches an epoch with
--subset 300 --batch-size 32), validation (after the last batch of epoch 2, before its validation), test (after
the last epoch's row, before the test score), cleanup (a stop's checkpoint, held for a minute: a second stop
must not wait for it) or none. MARKER is a file written with the pid when the stall
begins (and at start-up for `none`).
"""

import os
import sys
import time
from pathlib import Path

STALL = 3.0  # seconds: a long validation or test evaluation, as on a big data set

phase, marker = sys.argv[1], Path(sys.argv[2])  # the tree to test comes first on $PYTHONPATH

import lab_workbench.tui.app as app_module  # noqa: E402
from lab_workbench.commands.labtui import main  # noqa: E402

real_train = app_module._engine_train


def mark() -> None:
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(str(os.getpid()))
    tmp.replace(marker)  # whole or absent: the test reads it as soon as it appears


def stall() -> None:
    mark()
    time.sleep(STALL)


def stalling_train(config, on_event, should_stop):
    if phase == "loading":
        stall()
    polls, stopping = [0], [False]

    def poll():
        polls[0] += 1
        if phase == "batch" and polls[0] == 13:
            stall()
        return should_stop()

    def forward(e):
        name = type(e).__name__
        if phase == "validation" and name == "BatchEnded" and e.epoch == 2 and e.step == e.steps:
            stall()
        on_event(e)
        if phase == "test" and name == "EpochEnded" and e.epoch == config.epochs:
            stall()
        if phase == "cleanup" and name == "PhaseChanged" and e.phase == "saving" and stopping[0]:
            mark()
            time.sleep(60)
        if name == "PhaseChanged" and e.phase == "cancelling":
            stopping[0] = True
    return real_train(config, on_event=forward, should_stop=poll)


app_module._engine_train = stalling_train
if phase == "none":
    mark()
main(sys.argv[3:])
