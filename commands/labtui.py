"""`labtui`'s command line: the train flags prefill the form (the tui package itself never imports commands)."""

import sys
from pathlib import Path
from typing import Optional


def main(argv: Optional[list[str]] = None) -> None:
    """labtui [TRAIN FLAGS] [--watch RUN_DIR] [--runs]"""
    import typer

    from engine.errors import LabError
    from tui.app import make_app

    from .errors import run_cli
    from .options import config_from_options, with_train_options

    @with_train_options
    def labtui(
        watch: Optional[str] = typer.Option(None, "--watch", help="follow a run folder that another process writes"),
        runs: bool = typer.Option(False, "--runs", help="open the runs browser first"),
        **options,
    ):
        """The lab dashboard: start a run from a form (prefilled by the flags), watch it live, browse runs."""
        cfg = config_from_options(options)
        if watch is not None and not (Path(watch) / "config.json").is_file():
            raise LabError(f"--watch {watch}: not a run folder (no config.json)")
        app = make_app(cfg, start="runs" if runs else "form", watch=watch, ansi=few_colors())
        app.run()
        raise SystemExit(app.return_code or 0)

    cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    cli.command()(labtui)
    run_cli(cli, sys.argv[1:] if argv is None else list(argv), "labtui", guard_stdout=False)


def few_colors() -> bool:
    """Whether the terminal shows only 16 colours (TERM=xterm, screen, linux...): then labtui uses the
    terminal's palette (Textual's ANSI theme), which keeps focus and dropdowns visible."""
    from rich.console import Console
    return Console().color_system in ("standard", "windows")


if __name__ == "__main__":
    main()
