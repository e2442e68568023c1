"""`lab train` flags, generated from TrainConfig's field metadata (engine.config.settings)."""

import inspect
from typing import List, Optional

import typer

from engine.config import TrainConfig, config_from_text, resumable_flags, settings

from .completion import choices

METAVARS = {"int": "INT", "float": "FLOAT", "str": "TEXT", "ints": "INT,INT...", "strs": "GLOB", "choice": "NAME"}
PANELS = {"data": "Data", "model": "Model", "training": "Training", "run": "Run folder"}


def _help(s) -> str:
    text = s.help
    if s.kind == "choice" and s.name != "model":  # listing models would import torch into --help
        text += f"; one of: {', '.join(s.options())}"
    if s.default not in (None, False, "", [], {}):
        text += f" (default: {s.default})"
    if s.resumable:
        text += " (may change on --resume)"
    return text


def _parameter(s) -> inspect.Parameter:
    decls = [f"{s.flag}/--no-{s.flag[2:]}" if s.kind == "bool" else s.flag]
    if s.short:
        decls.append(s.short)
    # every value arrives as text and is parsed by the engine: the CLI and the form share one error text
    option = typer.Option(None, *decls, help=_help(s), show_default=False, rich_help_panel=PANELS[s.group],
                          metavar=None if s.kind == "bool" else METAVARS[s.kind],
                          autocompletion=choices(s.name) if s.kind == "choice" else None)
    typ = Optional[bool] if s.kind == "bool" else Optional[List[str]] if s.kind == "strs" else Optional[str]
    return inspect.Parameter(s.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=typ)


def with_train_options(fn):
    """Append every TrainConfig flag to a Typer command; they arrive as keyword arguments (None = unset)."""
    sig = inspect.signature(fn)
    own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params = own + [_parameter(s) for s in settings()]
    fn.__signature__ = sig.replace(parameters=params)
    fn.__annotations__ = {**{p.name: p.annotation for p in params}, "return": None}
    return fn


def options_given(kwargs: dict) -> dict:
    """The TrainConfig fields set on the command line, parsed (a bad value is a ConfigError naming the flag)."""
    out = {}
    for s in settings():
        value = s.parse(kwargs.get(s.name))
        if value is not None:
            out[s.name] = value
    return out


def config_files(config) -> list:
    """--config's files as a list (Typer gives a list, or None when none is given; callers may pass one)."""
    if config is None:
        return []
    return list(config) if isinstance(config, (list, tuple)) else [config]


def given_with_file(kwargs: dict, config_file) -> dict:
    """The flags given, on top of the --config files' values merged in order: what the user asked for."""
    from engine.configfile import layered_values
    return layered_values(config_files(config_file), options_given(kwargs))[0]


def config_from_cli(kwargs: dict, config_file) -> TrainConfig:
    """A validated TrainConfig from the --config files (if any, merged in order) and the flags on top, checked
    as a whole: an error about a file's key names the file and the key."""
    from engine.configfile import config_from_layers, layered_values
    return config_from_layers(*layered_values(config_files(config_file), options_given(kwargs)))


def config_option():
    """The --config option shared by lab train, lab sweep, lab lr-find and labtui (repeatable)."""
    return typer.Option(None, "--config", metavar="FILE", rich_help_panel="Run folder",
                        help="read settings from a YAML, TOML or run config.json file; repeat to merge several "
                             "in order; flags override them (see lab train --print-config)")


def config_from_options(kwargs: dict, base: TrainConfig | None = None) -> TrainConfig:
    """A validated TrainConfig: the flags given, on top of `base` (or the defaults)."""
    return config_from_text({s.name: kwargs.get(s.name) for s in settings()}, base)


RESUME_HELP = ("continue a run (folder, name under --runs-dir, 'latest', or 'auto' = the run named by --name "
               "if it exists, else a new one) at the batch where it stopped; may change: "
               + ", ".join(resumable_flags()))
