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


def given_with_file(kwargs: dict, config_file) -> dict:
    """The flags given, on top of the --config file's values (when there is one): what the user asked for."""
    given = options_given(kwargs)
    if config_file is None:
        return given
    from engine.configfile import merged_values, read_config_file
    return merged_values(read_config_file(config_file), given)


def config_from_cli(kwargs: dict, config_file) -> TrainConfig:
    """A validated TrainConfig from the --config file (if any) and the flags on top of it."""
    return config_from_text(given_with_file(kwargs, config_file))


def config_option():
    """The --config option shared by lab train, lab sweep, lab lr-find and labtui."""
    return typer.Option(None, "--config", metavar="FILE", rich_help_panel="Run folder",
                        help="read settings from a YAML, TOML or run config.json file; flags override it "
                             "(see lab train --print-config)")


def config_from_options(kwargs: dict, base: TrainConfig | None = None) -> TrainConfig:
    """A validated TrainConfig: the flags given, on top of `base` (or the defaults)."""
    return config_from_text({s.name: kwargs.get(s.name) for s in settings()}, base)


RESUME_HELP = ("continue a run (folder, name under --runs-dir, 'latest', or 'auto' = the run named by --name "
               "if it exists, else a new one) at the batch where it stopped; may change: "
               + ", ".join(resumable_flags()))
