"""`lab train`: flags -> TrainConfig -> engine.train, with a table, log lines or JSON on stdout."""

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from lab_workbench.engine.core.errors import ConfigError

from .completion import resume_names
from .errors import failed
from .options import (RESUME_HELP, RUN_PANEL, config_from_cli, config_option, given_with_file,
                      with_train_options)
from .render import TrainPrinter
from .signals import StopFlag, parse_duration

Json = Annotated[bool, typer.Option("--json", help="print results.json (and the run folder) to stdout at the end",
                                    rich_help_panel=RUN_PANEL)]


@with_train_options
def train_command(
    resume: Optional[str] = typer.Option(None, "--resume", help=RESUME_HELP, metavar="RUN",
                                          autocompletion=resume_names, rich_help_panel=RUN_PANEL),
    json_out: Json = False,
    json_lines: bool = typer.Option(False, "--json-lines", rich_help_panel=RUN_PANEL,
                                    help="print one JSON object per event (for log collectors)"),
    log_file: Optional[Path] = typer.Option(None, "--log-file", help="also append the plain per-epoch lines here",
                                            dir_okay=False, metavar="FILE", rich_help_panel=RUN_PANEL),
    time_limit: Optional[str] = typer.Option(None, "--time-limit", metavar="DURATION", rich_help_panel=RUN_PANEL,
                                             help="stop with a checkpoint after this wall-clock time, e.g. 3h50m "
                                                  "(exit 75; resume with --resume)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors", rich_help_panel=RUN_PANEL),
    config: Optional[List[Path]] = config_option(),
    print_config: bool = typer.Option(False, "--print-config", rich_help_panel=RUN_PANEL,
                                      help="print the complete config with the flags given applied (ready to save "
                                      "and pass to --config), and exit"),
    fmt: Optional[str] = typer.Option(None, "--format", help="--print-config format: yaml, toml or json "
                                      "[default: yaml]", metavar="FORMAT", rich_help_panel=RUN_PANEL),
    **options,
):
    """Train a model and write a run folder (config.json, metrics.csv, results.json, best.pt, last.pt)."""
    if options.get("recipe") == "list":
        from lab_workbench.engine.settings.recipes import describe_recipes
        print("\n".join(describe_recipes()))
        return
    if isinstance(options.get("name"), str) and not options["name"].strip():  # a form's '' means unset; a flag's not
        raise ConfigError("--name: expected a run folder name, got ''")
    if fmt is not None and not print_config:
        raise ConfigError("--format: needs --print-config (it is the format of the printed config)")
    limit = parse_duration(time_limit)
    auto = resume == "auto"
    cfg, run_dir, done = build_config(options, config, resume)
    if print_config:
        from lab_workbench.engine.launch.configfile import dump_config
        sys.stdout.write(dump_config(cfg, fmt or "yaml"))
        return
    from lab_workbench.engine.launch.preflight import check_inputs
    check_inputs(cfg, new=run_dir is None)  # before torch and the data load: a missing file is named at once
    if done:  # a requeued job whose run had ended: a success, not an error
        if not quiet:
            print(f"--resume auto: {run_dir} has already finished ({done}); nothing to do",
                  file=sys.stderr if json_out or json_lines else sys.stdout)
        return
    mode = "jsonl" if json_lines else "quiet" if (quiet or json_out) else ("tty" if sys.stdout.isatty() else "plain")
    _run(cfg, run_dir, auto, mode, limit, log_file, json_out)


def _run(cfg, run_dir: Path | None, auto: bool, mode: str, limit, log_file: Path | None, json_out: bool) -> None:
    """Train, the printer writing to lab's own stdout; anything else printed meanwhile (a tracker's "View run"
    lines, a library's) goes to stderr, so that --json and --json-lines stay parseable."""
    from lab_workbench.engine.training.trainer import train
    log = open_log(log_file)
    printer = TrainPrinter(mode, out=sys.stdout, log=log)
    try:
        with StopFlag(limit) as stop, contextlib.redirect_stdout(sys.stderr):
            history = train(cfg, on_event=stop.watching(printer), should_stop=stop, resume=run_dir, exact_name=auto)
    finally:
        printer.close()
        _close_log(log)
    _after_run(history, printer.log_error, log_file, json_out, stop)


def _after_run(history, log_error: str | None, log_file: Path | None, json_out: bool, stop: StopFlag) -> None:
    """What a finished run leaves on stdout and in the exit status: results.json under --json; 75, 130 or
    143 when stopped by a signal or the time limit; 1 when the run diverged."""
    from lab_workbench.engine.runs import RunFolder
    for warning in history.warnings:  # e.g. a tracker that failed mid-run: the run went on without it
        print(f"warning: {warning}", file=sys.stderr)
    if log_error:
        raise ConfigError(f"--log-file {log_file}: cannot write ({log_error}); the run went on in {history.run_dir}")
    if json_out and history.run_dir is None:  # stopped while the data loaded: no folder was made
        print(json.dumps({"run_dir": None, "status": history.status}, indent=2))
    elif json_out:
        results = RunFolder(history.run_dir).read_results() or {}
        print(json.dumps({"run_dir": str(Path(history.run_dir).resolve()), **results}, indent=2))
    if history.status == "interrupted" and stop.reason:
        raise typer.Exit(stop.exit_code())
    if history.status == "diverged":
        kept = ("the last good checkpoint is kept" if RunFolder(history.run_dir).last.is_file()
                else "it diverged before its first checkpoint, so none was saved")
        failed(f"training diverged (the loss stopped being finite or exploded); {kept}; try a lower --lr")


def build_config(options: dict, config_file: Path | None, resume: str | None):
    """(TrainConfig, run folder to resume or None, 'completed'/'early-stopped' when --resume auto finds the run
    over, else '') from the --config file and the flags on top of it."""
    given = given_with_file(options, config_file)
    # a file's every key counts as asked for: only the values that differ from the run must be resumable
    plan = None
    if resume:
        from lab_workbench.engine.runs.operations import plan_resume
        plan = plan_resume(resume, given)
    if plan is None:  # no --resume, or --resume auto with no run yet: a new run
        return config_from_cli(options, config_file), None, ""
    return plan.config, plan.run_dir, plan.done


def _close_log(log) -> None:
    try:
        if log is not None:
            log.close()
    except OSError:  # what could not be written was reported through printer.log_error
        pass


def open_log(path: Path | None):
    """The --log-file, opened for appending (a requeued job adds to the same log)."""
    if path is None:
        return None
    import errno
    import os
    try:  # without blocking: a named pipe with no reader would hold the run before it starts
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    except OSError as e:
        why = "a named pipe that no process reads" if e.errno == errno.ENXIO else e.strerror or e
        raise ConfigError(f"--log-file {path}: cannot write ({why})") from None
    os.set_blocking(fd, True)
    return open(fd, "a", encoding="utf-8")
