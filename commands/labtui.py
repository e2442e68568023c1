"""`labtui`'s command line: the train flags prefill the form (the tui package itself never imports commands)."""

import os
import sys
from pathlib import Path
from typing import List, Optional


def main(argv: Optional[list[str]] = None) -> None:
    """labtui [TRAIN FLAGS] [--config FILE] [--watch RUN_DIR] [--runs]"""
    import typer

    from lab_workbench.tui.app import make_app

    from .app import load_plugins
    from .completion import run_names
    from .errors import run_cli
    from .options import config_from_cli, config_option, with_train_options

    load_plugins()  # before the form lists the models and data sets

    @with_train_options
    def labtui(
        watch: Optional[str] = typer.Option(None, "--watch", autocompletion=run_names,
                                            help="follow a run that another process writes: a run "
                                            "folder, a run name under --runs-dir, or 'latest'"),
        runs: bool = typer.Option(False, "--runs", help="open the runs browser first"),
        config: Optional[List[Path]] = config_option(),
        **options,
    ):
        """The lab dashboard: start a run from a form (prefilled by the flags), watch it live, browse runs."""
        cfg = config_from_cli(options, config)  # the form starts from the file, the flags on top
        if watch is not None:
            watch = watched_run(watch, cfg.runs_dir)
        app = make_app(cfg, start="runs" if runs else "form", watch=watch, ansi=few_colors())
        app.run()
        for line in app.farewell():  # the screen is gone: where each run is, and how to go on
            print(line, file=sys.stderr)
        if getattr(app, "abandoned", False):  # a worker still loading data: it has written nothing, and must not start now
            sys.stdout.flush()
            os._exit(app.return_code or 0)
        raise SystemExit(app.return_code or 0)

    cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    cli.command()(labtui)
    run_cli(cli, sys.argv[1:] if argv is None else list(argv), "labtui", guard_stdout=False)


def watched_run(ref: str, runs_dir: str) -> Path:
    """--watch's folder, resolved as every lab command resolves a run (a path, a name, 'latest'), and said."""
    from lab_workbench.engine.core.errors import LabError
    from lab_workbench.engine.runs import resolve_run
    try:
        path = resolve_run(ref, runs_dir)
    except LabError as e:
        raise LabError(f"--watch {ref}: {e}") from None
    if ref != str(path):
        print(f"watching {path}", file=sys.stderr)
    return path


def few_colors() -> bool:
    """Whether the terminal shows only 16 colours (TERM=xterm, screen, linux...): then labtui uses the
    terminal's palette (Textual's ANSI theme), which keeps focus and dropdowns visible."""
    from rich.console import Console
    return Console().color_system in ("standard", "windows")


if __name__ == "__main__":
    main()
