"""Data sets as tensors on the training device.

Attributes load lazily (PEP 562): `engine.data.sources` (names, readers) does not pull in torch, so that
`lab train --help` can list the data sets and stay instant.
"""

from engine.lazy import lazy_getattr

_EXPORTS = {
    "Dataset": "engine.data.dataset", "Split": "engine.data.dataset", "build_dataset": "engine.data.dataset",
    "load_dataset": "engine.data.dataset",
    "read_idx": "engine.data.formats", "read_cifar_pickle": "engine.data.formats",
    "check_arrays": "engine.data.formats",
    "RawData": "engine.data.sources", "default_data_dir": "engine.data.sources", "read_source": "engine.data.sources",
    "list_datasets": "engine.data.sources", "register_dataset": "engine.data.sources", "DATASETS": "engine.data.sources",
    "read_inputs": "engine.data.inputs", "Inputs": "engine.data.inputs",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(_EXPORTS, globals(), __name__)
