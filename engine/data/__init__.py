"""Data sets as tensors on the training device.

Attributes load lazily (PEP 562): `engine.data.sources` (names, readers) does not pull in torch, so that
`lab train --help` can list the data sets and stay instant.
"""

from lab_workbench.engine.core.lazy import lazy_getattr

_EXPORTS = {
    "Dataset": "lab_workbench.engine.data.dataset", "Split": "lab_workbench.engine.data.dataset", "build_dataset": "lab_workbench.engine.data.dataset",
    "load_dataset": "lab_workbench.engine.data.dataset",
    "read_idx": "lab_workbench.engine.data.formats", "read_cifar_pickle": "lab_workbench.engine.data.formats",
    "check_arrays": "lab_workbench.engine.data.formats",
    "RawData": "lab_workbench.engine.data.sources", "default_data_dir": "lab_workbench.engine.data.sources", "read_source": "lab_workbench.engine.data.sources",
    "list_datasets": "lab_workbench.engine.data.sources", "register_dataset": "lab_workbench.engine.data.sources", "DATASETS": "lab_workbench.engine.data.sources",
    "read_inputs": "lab_workbench.engine.data.inputs", "Inputs": "lab_workbench.engine.data.inputs",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
