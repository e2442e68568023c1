"""`lab data SOURCE`: what is inside an HDF5 file or a named data set."""

import json
from pathlib import Path
from typing import Optional

import typer

from lab_workbench.engine.core.errors import ConfigError

from .common import AllowExternalH5, json_option
from .options import setting_option
from .plots import histogram_chart, use_color
from .textviz import count_bars, image_grid, print_lines

Json = json_option("print the summary as JSON")
TAKES = ("hdf5", "npz", "npy")  # the file formats (engine.data.formats.FILE_FORMATS) lab data describes


def data_command(
    source: str = typer.Argument(..., help="an HDF5 file or a data set name (digits, mnist, fashion, cifar10)"),
    data_dir: Optional[str] = setting_option("data_dir"),
    images_key: str = setting_option("images_key"),
    labels_key: str = setting_option("labels_key"),
    samples: int = typer.Option(3, "--samples", help="sample images shown per class (0: none)"),
    data_memory: str = setting_option("data_memory", "the budget `lab train --data-memory` would use"),
    json_out: Json = False,
    allow_external_h5: AllowExternalH5 = False,
):
    """Show shapes, class counts, pixel statistics, sample images and warnings for a data set; for an HDF5
    file, also its size, its resident size and whether training would stream it."""
    from lab_workbench.engine.data.describe import describe

    if samples < 0:
        raise ConfigError(f"--samples: expected a number >= 0, got {samples}")
    _check_data_memory(source, data_memory)
    raw, declared = read_any(source, data_dir, images_key, labels_key, allow_external_h5)
    info = describe(raw, declared)
    storage = _storage(source, images_key, data_memory, allow_external_h5)
    if storage:
        info["storage"] = storage
    if json_out:
        print(json.dumps(info, indent=2))
        return
    _print_summary(raw, info, storage)
    if samples > 0:
        _print_samples(raw, samples)
    if info["warnings"]:
        print("warnings:")
        for w in info["warnings"]:
            print(f"  ! {w}")
    else:
        print("no warnings: classes balanced, no duplicates across train/test, no constant images")


def _print_summary(raw, info: dict, storage: dict | None) -> None:
    """Classes, then per split: counts, pixel statistics, images per class and the pixel histogram."""
    print(f"{raw.name}  ({raw.origin})")
    if storage:
        print(storage_line(storage))
    print(f"classes ({len(raw.classes)}): {', '.join(raw.classes)}")
    for split, s in info["splits"].items():
        p = s["pixels"]
        print(f"\n{split}: {s['count']:,} images {'x'.join(map(str, s['image_shape']))} {s['dtype']}, "
              f"labels {s['label_dtype']}")
        print(f"  pixels (scaled to [0,1]): min {p['min']:.3f}  max {p['max']:.3f}  mean {p['mean']:.4f}  "
              f"std {p['std']:.4f}")
        print(f"  {split}: images per class")
        print_lines(count_bars(raw.classes, s["class_counts"]))
        h = s["histogram"]
        print(histogram_chart(h["counts"], h["edges"], f"{split}: pixel values (log10 of count)", height=10, log=True))


def _print_samples(raw, samples: int) -> None:
    from lab_workbench.engine.data.describe import samples_per_class
    print(f"\nsamples per class (train, first {samples}):")
    images, caps = [], []
    for k, imgs in samples_per_class(raw, samples).items():
        for im in imgs:
            images.append(im)
            caps.append(raw.classes[k])
    print_lines(image_grid(images, caps, use_color()))


def read_any(source: str, data_dir, images_key: str, labels_key: str, allow_external_h5: bool = False):
    """(RawData, declared class count) from everything `lab convert` reads: an HDF5 file, a data set name,
    an IDX, CIFAR or ImageFolder folder, an .npz/.npy file."""
    import numpy as np

    from lab_workbench.engine.data.convert import detect_source
    from lab_workbench.engine.data.sources import RawData, list_datasets, load_hdf5, read_source
    path = Path(source)
    if _is_h5(source):
        raw = load_hdf5(path, images_key, labels_key, strict=False, allow_external=allow_external_h5)  # checks class_names first
        return raw, _declared_classes(path)
    if source in list_datasets() and not path.exists():
        return read_source(source, data_dir=data_dir), None
    src = detect_source(source, None, data_dir, images_key=images_key, labels_key=labels_key)
    arrays = {}
    for split, s in src.splits.items():
        chunks = list(s.chunks())
        arrays[split] = (np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks]))
    test = arrays.get("test", (None, None))
    return RawData(src.name, src.classes, *arrays["train"], *test, origin=str(path)), len(src.classes)


def _declared_classes(path: Path):
    import h5py
    import numpy as np
    try:
        with h5py.File(path, "r") as f:
            names = f.attrs.get("class_names")
            return None if names is None else len(np.atleast_1d(names))
    except OSError:
        return None


def _is_h5(source: str) -> bool:
    """An HDF5 file; a file lab data does not read is a DataError (FILE_FORMATS)."""
    from lab_workbench.engine.data.formats import file_format
    path = Path(source)
    return path.is_file() and file_format(path, TAKES, "lab data") == "hdf5"


def _check_data_memory(source: str, data_memory: str) -> None:
    """--data-memory (a size, checked as the flag is read) tells something only about an HDF5 file."""
    if data_memory != "auto" and not _is_h5(source):
        raise ConfigError(f"--data-memory: only for an HDF5 file (whether it would stream); {source} is not one")


def _storage(source: str, images_key: str, data_memory: str, allow_external_h5: bool) -> dict | None:
    from lab_workbench.engine.data.budget import storage_facts
    return storage_facts(Path(source), images_key, data_memory, allow_external_h5) if _is_h5(source) else None


def storage_line(s: dict) -> str:
    """'file 1.20 MiB, resident 3.10 MiB: training holds it in memory (--data-memory budget 8.00 GiB)'."""
    from lab_workbench.engine.core.units import format_bytes
    budget = "unknown" if s["budget_bytes"] is None else format_bytes(s["budget_bytes"])
    verdict = "training streams it from the file" if s["streams"] else "training holds it in memory"
    return (f"file {format_bytes(s['file_bytes'])}, resident {format_bytes(s['resident_bytes'])}: {verdict} "
            f"(--data-memory budget {budget})")
