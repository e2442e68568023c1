"""The process a run lives in: device, precision, threads, memory, hangups and timings.

Attributes load lazily (PEP 562), so that importing the package does not pull in torch.
"""

from engine.lazy import lazy_getattr

_EXPORTS = {
    "DEVICES": "engine.runtime.device", "resolve_device": "engine.runtime.device",
    "autocast": "engine.runtime.precision", "resolve_precision": "engine.runtime.precision",
    "grad_scaler": "engine.runtime.precision",
    "available_cpus": "engine.runtime.threads", "configure_threads": "engine.runtime.threads",
    "check_memory": "engine.runtime.memory", "human": "engine.runtime.memory",
    "detach_from_terminal": "engine.runtime.process", "Timings": "engine.runtime.timings",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
