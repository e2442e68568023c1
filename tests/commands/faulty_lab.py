"""`lab train` with a fault before batch N of the run, at an exact point (run as a subprocess, under torchrun):

    python faulty_lab.py stop N [LAB TRAIN FLAGS]    every rank's stop flag trips there, as SIGTERM's would
    python faulty_lab.py kill N [LAB TRAIN FLAGS]    rank 1 dies there by SIGKILL, on torchrun's first try only
"""

import os
import signal
import sys

import lab_workbench.engine.training.trainer as trainer  # the tree to test comes first on $PYTHONPATH
from lab_workbench.commands.app import main

fault, before, real_train = sys.argv[1], int(sys.argv[2]), trainer.train
first_try = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0"


def train(cfg, on_event=None, should_stop=None, **kw):
    polls = {"n": 0}  # the loop polls once before each batch (the first poll, before the folder, is batch 1's)

    def poll():
        polls["n"] += 1
        if polls["n"] == before and fault == "stop":
            return "interrupted"
        if polls["n"] == before and fault == "kill" and first_try and os.environ.get("RANK") == "1":
            os.kill(os.getpid(), signal.SIGKILL)
        return should_stop() if should_stop else None
    return real_train(cfg, on_event, poll, **kw)


trainer.train = train
main(["train", *sys.argv[3:]])
