"""Hostile review: the memory check's shape probe on a CPU copy must not allocate what the check refuses."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_large_images_are_refused_without_running_the_conv_body_on_them():
    # convnet on 1x2000x2000 images: the check refuses its 1e10-parameter head in one line; the probe that
    # finds the head's size ran the convolutions on a real CPU copy (32 and 64 channels of 2000x2000 floats,
    # ~1.5 GB; at 6000x6000, more than this machine has: killed instead of refused)
    # VmHWM, not ru_maxrss: Linux carries a process's peak across exec, so ru_maxrss would report the forking
    # pytest worker's size (1.5 GB in a full run)
    code = ("from lab_workbench.engine.core.errors import LabError\nfrom lab_workbench.engine.models import create_model\n"
            "try:\n    create_model('convnet', (1, 2000, 2000), 2)\nexcept LabError as e:\n    print(e)\n"
            "hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM')][0]\n"
            "print(int(hwm.split()[1]) // 1024)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    *message, peak_mb = done.stdout.strip().splitlines()
    assert "of memory" in message[-1], done.stdout  # refused in one line
    assert int(peak_mb) < 1000, done.stdout


def test_small_bodies_still_probe_on_a_cpu_copy():
    import torch

    from lab_workbench.engine.models.layers import flat_features
    with torch.device("meta"):
        body = torch.nn.Sequential(torch.nn.Conv2d(1, 64, 3, padding=1), torch.nn.BatchNorm2d(64),
                                   torch.nn.MaxPool2d(2))
    assert flat_features(body, (1, 28, 28)) == 64 * 14 * 14
