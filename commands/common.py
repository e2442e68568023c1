"""The options several commands share that are not TrainConfig fields, each declared once as an `Annotated`
type (Typer reads the option from the annotation; the default stays in the signature, `runs_dir: RunsDir =
"runs"`). An option that is a TrainConfig field (--data-dir, --device, --threads...) comes from
commands/options.py's setting_option, so that its flag, default and checks are the field's.

Where commands word an option's help differently (what `--json` prints), they get the type from its
factory with their own sentence; the flag, its type and its checks stay here."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from lab_workbench.engine.core.errors import ConfigError

from .options import setting_type

TRUST_CODE_HELP = ("also load .pt2 (torch.export) and TorchScript files, which can run code when loaded: only "
                   "for files you made or trust (safetensors, ONNX and lab .pt checkpoints never run code)")


def check_png_folder(png: Optional[Path]) -> Optional[Path]:
    """`--png DIR`: matplotlib is installed and DIR is a folder or can become one; checked as the flags are
    read, before any work."""
    if png is None:
        return None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigError("--png needs matplotlib: pip install 'lab-workbench[plots]'") from None
    if png.exists() and not png.is_dir():
        raise ConfigError(f"--png {png}: expected a folder for the PNG files, found a file")
    if not png.exists() and not png.parent.is_dir():
        raise ConfigError(f"--png {png}: expected a folder in an existing folder ({png.parent} does not exist)")
    return png


def check_checkpoint(which: str) -> str:
    """`--checkpoint` names one of a run folder's two checkpoints."""
    if which not in ("best", "last"):
        raise ConfigError(f"--checkpoint: expected best or last, got {which!r}")
    return which


def runs_dir_option(help_text: str):
    """--runs-dir (default: pass "runs"), with this command's help."""
    return setting_type("runs_dir", str, help_text)


def json_option(help_text: str):
    """--json (default: pass False), with what this command prints."""
    return Annotated[bool, typer.Option("--json", help=help_text)]


def png_option(help_text: str):
    """--png DIR (default: pass None), checked by check_png_folder as the flags are read."""
    return Annotated[Optional[Path], typer.Option("--png", help=help_text, callback=check_png_folder)]


RunsDir = runs_dir_option("where 'latest' is looked up")
Checkpoint = Annotated[str, typer.Option("--checkpoint", help="best or last (for a run folder)",
                                         callback=check_checkpoint)]
TrustCode = Annotated[bool, typer.Option("--trust-code", help=TRUST_CODE_HELP)]
AllowExternalH5 = setting_type("allow_external_h5", bool, "let an HDF5 file follow external links, external "
                                                        "storage and virtual datasets into other files")
