"""Streaming from HDF5: chunk-aligned blocks of rows, an epoch order of shuffled blocks and rows shuffled
within a window of blocks, and a background thread that reads ahead while the device trains.

Only the labels are read whole; images are read block by block, so memory is bounded by the window.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

import numpy as np
import torch

from lab_workbench.engine.core.errors import DataError
from lab_workbench.engine.data.formats import check_pixels
from lab_workbench.engine.data.sources import RawData, load_hdf5

BLOCK_BYTES = 4 << 20  # rows per read: a whole number of HDF5 chunks of about this size
PREFETCH = 4  # batches read ahead of the loop


def hdf5_bytes(path, images_key: str = "images", allow_external: bool = False) -> int:
    """Bytes the images of an HDF5 file (train and test/) take in their stored dtype, without reading them."""
    import h5py

    from lab_workbench.engine.data.h5safe import open_h5
    try:
        with open_h5(path, allow_external) as f:
            total = 0
            for group in (f, f.get("test")):
                d = group.get(images_key) if isinstance(group, h5py.Group) else None
                if isinstance(d, h5py.Dataset):
                    total += int(np.prod(d.shape)) * d.dtype.itemsize
            return total
    except (OSError, RuntimeError):  # RuntimeError: a soft link to itself
        return 0  # the reader names the problem with the file


class H5Rows:
    """Rows of one HDF5 image dataset, read in chunk-aligned blocks; `store[rows]` returns (n,H,W,C)."""

    def __init__(self, path: Path, key: str, shape: tuple, dtype, chunk_rows: int | None):
        self.path, self.key = Path(path), key
        self.shape = tuple(shape) + ((1,) if len(shape) == 3 else ())
        self.dtype = torch.uint8 if np.dtype(dtype) == np.uint8 else torch.float32
        self.chunk = chunk_rows or 1
        from lab_workbench.engine.runtime.memory import check_memory  # a stream holds a few blocks of rows: a (10, 10^5, 10^5) set cannot
        check_memory(8 * self.chunk * self.row_bytes, f"--data {self.path}",
                     f"one block of {self.chunk} rows of {self.key!r} does not fit")
        self.block, self.window = self.chunk, 1
        self.set_budget(None)
        self._file = None
        self._stamp = None
        self._last = None  # (block, rows) of the last read
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.shape[0]

    def set_budget(self, budget: int | None) -> None:
        """Blocks of whole HDF5 chunks of about BLOCK_BYTES (less under a small budget), and a window of
        blocks such that two windows (the one in use and the next) fit in the budget."""
        target = BLOCK_BYTES if not budget else min(BLOCK_BYTES, budget // 8)
        self.block = max(self.chunk, target // max(self.row_bytes, 1) // self.chunk * self.chunk)
        self.window = 16 if not budget else int(max(1, min(256, budget // (2 * self.block * self.row_bytes))))

    @property
    def row_bytes(self) -> int:
        return int(np.prod(self.shape[1:])) * self.dtype.itemsize

    def _dataset(self):
        import h5py
        stat = os.stat(self.path)  # a file replaced or rewritten under a run is an error, not other data
        stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if self._stamp is not None and stamp != self._stamp:
            raise OSError("the file changed during the run")
        if self._file is None:
            self._file, self._stamp = h5py.File(self.path, "r"), stamp
        return self._file[self.key]

    def read_block(self, b: int) -> np.ndarray:
        """Rows [b * block, (b + 1) * block) as a numpy array (n,H,W,C)."""
        if self._last is not None and self._last[0] == b:  # whole-split reads cross each block boundary twice
            return self._last[1]
        lo, hi = b * self.block, min((b + 1) * self.block, self.shape[0])
        try:
            with self._lock:
                out = self._dataset()[lo:hi]
        except (OSError, KeyError, ValueError, RuntimeError) as e:
            self.close()
            from lab_workbench.engine.data.h5safe import read_problem
            raise DataError(f"{self.path}: cannot read rows {lo}-{hi} of {self.key!r} ({read_problem(e)})") from None
        if out.shape[0] != hi - lo:
            raise DataError(f"{self.path}: rows {lo}-{hi} of {self.key!r} came back short (the file is truncated)")
        out = out.reshape(hi - lo, *self.shape[1:])
        check_pixels(out, f"{self.path}: rows {lo}-{hi} of {self.key!r}")  # streamed: checked block by block
        self._last = (b, out)
        return out

    def __getitem__(self, rows) -> torch.Tensor:
        rows = np.asarray(rows.cpu() if isinstance(rows, torch.Tensor) else rows, dtype=np.int64)
        out = np.empty((len(rows), *self.shape[1:]), dtype=np.uint8 if self.dtype == torch.uint8 else np.float32)
        blocks = rows // self.block
        for b in np.unique(blocks):
            mine = blocks == b
            out[mine] = self.read_block(int(b))[rows[mine] - b * self.block]
        return torch.from_numpy(out)

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            finally:
                self._file = None

    def __getstate__(self):  # a checkpoint or a worker never carries the open file
        return {**self.__dict__, "_file": None, "_lock": None, "_last": None}


def open_hdf5_stream(path, images_key: str = "images", labels_key: str = "labels",
                     budget: int | None = None, layout: dict | None = None, allow_external: bool = False) -> RawData:
    """RawData whose images are H5Rows (read when batches need them); labels and class names read whole."""
    import h5py
    raw = load_hdf5(path, images_key, labels_key, images=False, allow_external=allow_external)
    with h5py.File(path, "r") as f:
        stores = []
        for group in (f, f.get("test")):
            d = group.get(images_key) if isinstance(group, h5py.Group) else None
            if not isinstance(d, h5py.Dataset):
                stores.append(None)
                continue
            stores.append(H5Rows(Path(path), d.name, d.shape, d.dtype, d.chunks[0] if d.chunks else None))
    for store in stores:
        if store is not None:
            store.set_budget(budget)
            if layout:  # a resumed run: the blocks and window it started with, whatever the budget now
                store.block, store.window = int(layout["block"]), int(layout["window"])
    raw.train_x, raw.test_x = stores[0], stores[1] if raw.test_y is not None else None
    return raw


def stream_order(rows: torch.Tensor, block: int, window: int, gen: torch.Generator) -> torch.Tensor:
    """An epoch's order of a streamed split's positions: its blocks shuffled, then the positions shuffled
    within each window of `window` blocks. `rows` (the split's rows of the file) are sorted."""
    rows_np = rows.cpu().numpy()
    ids, starts = np.unique(rows_np // block, return_index=True)
    ends = np.append(starts[1:], len(rows_np))
    order = torch.randperm(len(ids), generator=gen).numpy()
    parts = []
    for w in range(0, len(order), window):
        pos = np.concatenate([np.arange(starts[b], ends[b]) for b in order[w:w + window]])
        parts.append(pos[torch.randperm(len(pos), generator=gen).numpy()])
    return torch.from_numpy(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))


class StreamBatches:
    """Iterates (step, raw images (B,H,W,C)) of a streamed split for the given epoch positions, reading
    blocks on a background thread; a block is dropped after the last batch that needs it."""

    def __init__(self, split, perm: torch.Tensor, batch_size: int, start: int, steps: list[int], pin: bool):
        self.store: H5Rows = split.store
        self.rows = split.rows.cpu().numpy()[perm.cpu().numpy()]
        self.batch_size, self.steps, self.pin = batch_size, steps, pin
        self.queue: queue.Queue = queue.Queue(maxsize=PREFETCH)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._produce, name="lab-stream", daemon=True)
        self.thread.start()

    def _produce(self) -> None:
        try:
            blocks = self.rows // self.store.block
            last = {}
            for step in self.steps:  # the last step that reads each block
                for b in np.unique(blocks[step * self.batch_size:(step + 1) * self.batch_size]):
                    last[int(b)] = step
            cache: dict[int, np.ndarray] = {}
            for step in self.steps:
                if self.stop.is_set():
                    return
                self._put((step, self._batch(step, blocks, cache, last)))
            self._put(None)
        except BaseException as e:  # handed to the loop, which reports it with the epoch and batch
            self._put(e)

    def _batch(self, step: int, blocks: np.ndarray, cache: dict, last: dict) -> torch.Tensor:
        sl = slice(step * self.batch_size, (step + 1) * self.batch_size)
        rows, bids = self.rows[sl], blocks[sl]
        out = torch.empty((len(rows), *self.store.shape[1:]), dtype=self.store.dtype, pin_memory=self.pin)
        view = out.numpy()
        for b in np.unique(bids):
            b = int(b)
            if b not in cache:
                cache[b] = self.store.read_block(b)
            mine = bids == b
            view[mine] = cache[b][rows[mine] - b * self.store.block]
            if last[b] <= step:
                del cache[b]
        return out

    def _put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self):
        while True:
            item = self.queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop the reader (a run stopped mid-epoch) and wait for it."""
        self.stop.set()
        self.thread.join()
