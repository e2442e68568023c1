"""--trust-code: the one flag that lets eval, predict, inspect-weights and export load files that run code."""

import typer

TRUST_CODE_HELP = ("also load .pt2 (torch.export) and TorchScript files, which can run code when loaded: only "
                   "for files you made or trust (safetensors, ONNX and lab .pt checkpoints never run code)")


def trust_code_option():
    """A fresh Typer option for --trust-code (each command needs its own instance)."""
    return typer.Option(False, "--trust-code", help=TRUST_CODE_HELP)
