"""Runs tests/cluster/slurm_requeue.sh (a real one-node Slurm) when Slurm is installed; skipped otherwise."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers import ROOT

SCRIPT = ROOT / "tests" / "cluster" / "slurm_requeue.sh"


@pytest.mark.slow
def test_a_slurm_job_signalled_with_usr1_requeues_and_resumes_the_same_run(tmp_path):
    missing = [c for c in ("sbatch", "slurmctld", "slurmd", "munged") if shutil.which(c) is None]
    if missing:
        pytest.skip(f"Slurm is not installed here ({', '.join(missing)} not on PATH); "
                    f"`apt-get install slurm-wlm munge` to run this test")
    if os.geteuid() != 0:
        pytest.skip("the one-node Slurm of this test runs its daemons as root")
    env = {**os.environ, "LAB": f"{sys.executable} -m commands", "PYTHONPATH": str(ROOT)}
    r = subprocess.run(["bash", str(SCRIPT), str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    print(r.stdout[-3000:])
    assert r.returncode == 0 and "PASS:" in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]
