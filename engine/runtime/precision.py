"""Training precision: resolve 'auto' from the hardware, and the autocast context and grad scaler for it.

bf16 autocast is only fast where the hardware computes in bf16 (on CPUs without it, ~5x slower than fp32),
so 'auto' looks at the device: CUDA with bf16, CPUs with AVX512-BF16 or AMX, else fp16+scaler on older
GPUs and fp32 on everything else. Evaluation and export always run in fp32.
"""

from __future__ import annotations

import contextlib
import functools

import torch

from lab_workbench.engine.core.errors import ConfigError

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (x86 avx512_bf16 / amx_bf16, Arm bf16)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            flags = set()
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags.update(line.split(":", 1)[1].split())
                    break
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


def resolve_precision(name: str, device: torch.device) -> str:
    """'auto' | 'bf16' | 'fp16' | 'fp32' -> the precision to train in on `device`."""
    if name == "auto":
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        if device.type == "cpu":
            return "bf16" if cpu_has_native_bf16() else "fp32"
        return "fp32"
    if name not in ("bf16", "fp16", "fp32"):
        raise ConfigError(f"--precision: expected one of auto, bf16, fp16, fp32, got {name!r}")
    if name == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError("--precision bf16: this GPU does not support bf16; use fp16 or auto")
    return name


def autocast(precision: str, device: torch.device):
    """The context the forward pass runs under: autocast to bf16/fp16, or nothing for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[precision])


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """A loss scaler, enabled for fp16 only (bf16 has fp32's range); disabled, it passes values through."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")
