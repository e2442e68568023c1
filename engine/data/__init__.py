"""Data sets as tensors on the training device."""

from .dataset import Dataset, Split, build_dataset, load_dataset
from .formats import check_arrays, read_cifar_pickle, read_idx
from .sources import RawData, default_data_dir, read_source

__all__ = ["Dataset", "Split", "RawData", "build_dataset", "load_dataset", "read_source",
           "default_data_dir", "read_idx", "read_cifar_pickle", "check_arrays"]
