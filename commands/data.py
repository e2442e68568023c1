"""`lab data SOURCE`: what is inside an HDF5 file or a named data set."""

import json
from pathlib import Path
from typing import Optional

import typer

from .plots import bar_chart, histogram_chart, use_color
from .textviz import image_grid, print_lines


def data_command(
    source: str = typer.Argument(..., help="an HDF5 file or a data set name (digits, mnist, fashion, cifar10)"),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help="where named data sets live"),
    images_key: str = typer.Option("images", "--images-key", help="HDF5 dataset name of the images"),
    labels_key: str = typer.Option("labels", "--labels-key", help="HDF5 dataset name of the labels"),
    samples: int = typer.Option(3, "--samples", help="sample images shown per class (0: none)"),
    json_out: bool = typer.Option(False, "--json", help="print the summary as JSON"),
):
    """Show shapes, class counts, pixel statistics, sample images and warnings for a data set."""
    from engine.data.sources import load_hdf5, read_source
    from engine.datainfo import describe, samples_per_class
    from engine.errors import DataError

    path = Path(source)
    if path.suffix in (".h5", ".hdf5") or path.is_file():
        raw = load_hdf5(path, images_key, labels_key, strict=False)
        declared = _declared_classes(path)
    elif source in ("digits", "mnist", "fashion", "cifar10"):
        raw, declared = read_source(source, data_dir=data_dir), None
    else:
        raise DataError(f"{source}: not an HDF5 file or a data set name (digits, mnist, fashion, cifar10)")
    info = describe(raw, declared)
    if json_out:
        print(json.dumps(info, indent=2))
        return
    print(f"{raw.name}  ({raw.origin})")
    print(f"classes ({len(raw.classes)}): {', '.join(raw.classes)}")
    for split, s in info["splits"].items():
        p = s["pixels"]
        print(f"\n{split}: {s['count']:,} images {'x'.join(map(str, s['image_shape']))} {s['dtype']}, "
              f"labels {s['label_dtype']}")
        print(f"  pixels (scaled to [0,1]): min {p['min']:.3f}  max {p['max']:.3f}  mean {p['mean']:.4f}  "
              f"std {p['std']:.4f}")
        print(bar_chart(raw.classes, s["class_counts"], f"{split}: images per class"))
        h = s["histogram"]
        print(histogram_chart(h["counts"], h["edges"], f"{split}: pixel values (log10 of count)", height=10, log=True))
    if samples > 0:
        print(f"\nsamples per class (train, first {samples}):")
        picked = samples_per_class(raw, samples)
        images, caps = [], []
        for k, imgs in picked.items():
            for im in imgs:
                images.append(im)
                caps.append(raw.classes[k])
        print_lines(image_grid(images, caps, use_color()))
    if info["warnings"]:
        print("warnings:")
        for w in info["warnings"]:
            print(f"  ! {w}")
    else:
        print("no warnings: classes balanced, no duplicates across train/test, no constant images")


def _declared_classes(path: Path):
    import h5py
    try:
        with h5py.File(path, "r") as f:
            names = f.attrs.get("class_names")
            return None if names is None else len(names)
    except OSError:
        return None
