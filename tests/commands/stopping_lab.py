"""`lab train` whose stop flag trips before batch N of the run, as SIGTERM would there: a deterministic
mid-epoch stop on every rank at once, for tests of multi-process runs (run as a subprocess, e.g. under torchrun):

    python stopping_lab.py N [LAB TRAIN FLAGS]
"""

import sys

import engine.training.trainer as trainer  # the tree to test comes first on $PYTHONPATH
from commands.app import main

stop_before, real_train = int(sys.argv[1]), trainer.train


def train(cfg, on_event=None, should_stop=None, **kw):
    polls = {"n": 0}  # the loop polls once before each batch (the first poll, before the folder, is batch 1's)

    def stop():
        polls["n"] += 1
        return "interrupted" if polls["n"] == stop_before else (should_stop() if should_stop else None)
    return real_train(cfg, on_event, stop, **kw)


trainer.train = train
main(["train", *sys.argv[2:]])
