"""The process a run lives in: device, precision, threads, memory, hangups and timings.

Attributes load lazily (PEP 562), so that importing the package does not pull in torch.
"""

from lab_workbench.engine.core.lazy import lazy_getattr

_EXPORTS = {
    "DEVICES": "lab_workbench.engine.runtime.device", "resolve_device": "lab_workbench.engine.runtime.device",
    "autocast": "lab_workbench.engine.runtime.precision", "resolve_precision": "lab_workbench.engine.runtime.precision",
    "grad_scaler": "lab_workbench.engine.runtime.precision",
    "available_cpus": "lab_workbench.engine.runtime.threads", "configure_threads": "lab_workbench.engine.runtime.threads",
    "check_memory": "lab_workbench.engine.runtime.memory",
    "detach_from_terminal": "lab_workbench.engine.runtime.process", "Timings": "lab_workbench.engine.runtime.timings",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
