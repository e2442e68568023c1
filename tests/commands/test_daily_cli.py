"""lab's daily life (issue 24): a finished run requeued, which run 'latest' is, strict flags, HDF5 sources."""

import json

from tests.helpers import lab_here


def test_resume_auto_of_a_finished_run_exits_0_and_says_so(tmp_path):
    args = ["train", "-e", "1", "--subset", "200", "--name", "job", "--resume", "auto"]
    assert lab_here(*args, cwd=tmp_path).returncode == 0
    r = lab_here(*args, cwd=tmp_path)  # the requeued job: the run had completed
    assert r.returncode == 0, r.stderr
    assert "--resume auto: runs/job has already finished (completed); nothing to do" in r.stdout
    j = lab_here(*args, "--json", cwd=tmp_path)
    assert j.returncode == 0 and j.stdout == "" and "already finished" in j.stderr
    more = lab_here(*args[:2], "2", *args[3:], cwd=tmp_path)  # asking for more epochs continues it
    assert more.returncode == 0 and "resuming runs/job at epoch 2" in more.stdout
    # an explicit --resume of a finished run still says how to continue it
    again = lab_here("train", "--resume", "job", cwd=tmp_path)
    assert again.returncode == 2 and "--epochs 2: the run already has 2 epochs" in again.stderr


def test_eval_and_predict_latest_say_which_run(tmp_path):
    import numpy as np
    from PIL import Image
    digits_png = tmp_path / "seven.png"
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8) * 4).save(digits_png)
    assert lab_here("train", "-e", "1", "--subset", "200", "--name", "d", cwd=tmp_path).returncode == 0
    r = lab_here("eval", "latest", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.splitlines()[0] == "latest: runs/d (best.pt)"
    j = lab_here("eval", "latest", "--json", cwd=tmp_path)
    assert j.stderr == "latest: runs/d (best.pt)\n" and json.loads(j.stdout)["accuracy"] > 0
    p = lab_here("predict", "d", digits_png, "--json", cwd=tmp_path)
    assert p.returncode == 0 and p.stderr == "d: runs/d (best.pt)\n" and json.loads(p.stdout)["predictions"]
    quiet = lab_here("eval", "runs/d", "--json", cwd=tmp_path)  # a path is already explicit
    assert quiet.stderr == ""


def test_strict_flags_on_the_command_line(tmp_path):
    r = lab_here("train", "--optimizer", "adamw", "--momentum", "0.5", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("error: --momentum: --optimizer adamw does not use it")
    r = lab_here("train", "--data", "pets.h5", "--dataset", "mnist", cwd=tmp_path)
    assert r.returncode == 2 and "--dataset mnist: ignored with --data pets.h5" in r.stderr
