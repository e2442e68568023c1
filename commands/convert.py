"""`lab convert SOURCE OUT.h5`: any supported image classification source into one HDF5 file."""

import sys
from pathlib import Path
from typing import Optional

import typer

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.core.units import format_bytes

from .common import json_option
from .options import setting_option

Json = json_option("print the summary as JSON")


def parse_hw(text: Optional[str]) -> tuple[int, int] | None:
    """--size HxW (such as 28x28) as (height, width); None when not given."""
    if text is None:
        return None
    try:
        h, w = (int(v) for v in text.lower().split("x"))
        if h < 1 or w < 1:
            raise ValueError
        return h, w
    except ValueError:
        raise ConfigError(f"--size: expected HxW such as 28x28, got {text!r}") from None


def convert_command(
    source: str = typer.Argument(..., help="data set name, IDX/CIFAR/ImageFolder folder, or .npz/.npy file"),
    out: Path = typer.Argument(..., help="the HDF5 file to write"),
    fmt: Optional[str] = typer.Option(None, "--format", help="dataset, idx, cifar, imagefolder, npz [default: detect]"),
    data_dir: Optional[str] = setting_option("data_dir"),
    size: Optional[str] = typer.Option(None, "--size", help="ImageFolder: resize to HxW"),
    grayscale: bool = typer.Option(False, "--grayscale", help="ImageFolder: convert to grayscale"),
    images_key: str = setting_option("images_key", "npz/npy: the images array"),
    labels_key: str = setting_option("labels_key", "npz/npy: the labels array"),
    force: bool = typer.Option(False, "--force", help="overwrite OUT if it exists"),
    compression: str = typer.Option("lzf", "--compression",
                                    help="lzf (fast to read: streams at disk speed), gzip (level 4, smaller) or "
                                         "none; images are stored in chunks of whole rows of about 1 MB"),
    # text on the command line, an int once the field's check has read it
    threads: Optional[str] = setting_option("threads", "ImageFolder: processes that decode images (default: the "
                                                       "CPUs this process may use)"),
    json_out: Json = False,
):
    """Convert a data set into HDF5 (images, labels, test/ group, class names), verified by reading it back.

    Written for fast streaming reads: chunks of whole rows (about 1 MB) and lzf compression by default
    (--compression gzip for smaller files). An ImageFolder is decoded in parallel, block by block, so
    memory stays bounded whatever the number of images."""
    from lab_workbench.engine.data.convert import detect_source
    from lab_workbench.engine.data.h5file import write_h5

    src = detect_source(source, fmt, data_dir, parse_hw(size), grayscale, images_key, labels_key, threads)
    for flag, given in (("--size", size is not None), ("--grayscale", grayscale), ("--threads", threads is not None)):
        if given and src.kind != "imagefolder":  # only the ImageFolder reader decodes (and so resizes) images
            raise ConfigError(f"{flag}: only for an ImageFolder source; {source} is read as {src.kind}, which "
                              f"{flag} would not change; drop {flag}")
    progress = _progress(src) if sys.stdout.isatty() and not json_out else None
    try:
        summary = write_h5(src, out, force, on_progress=progress.update if progress else None,
                           compression=compression)
    finally:
        if progress is not None:
            progress.bar.stop()
    if json_out:
        import json
        print(json.dumps(summary, indent=2))
        return
    counts = ", ".join(f"{k} {v:,} x {'x'.join(map(str, summary['shapes'][k][1:]))}" for k, v in summary["counts"].items())
    print(f"wrote {out} ({format_bytes(summary['bytes'])}): {counts}, {len(src.classes)} classes; verified")


class _Bar:
    """A rich progress bar per split: done/total, images per second and the time left."""

    def __init__(self, src):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), transient=True)
        self.tasks = {k: self.bar.add_task(k, total=v.count, rate="") for k, v in src.splits.items()}
        self.bar.start()

    def update(self, split: str, done: int, total: int) -> None:
        task = self.tasks[split]
        self.bar.update(task, completed=done)
        speed = self.bar.tasks[task].speed
        if speed:
            self.bar.update(task, rate=f"{speed:,.0f} img/s")


def _progress(src) -> _Bar:
    return _Bar(src)
