"""`lab train` flags, generated from TrainConfig's field metadata (engine.config.settings)."""

import inspect
from typing import List, Optional

import typer
from typer.core import TyperCommand

from lab_workbench.engine.config import GROUPS, TrainConfig, config_from_text, resumable_flags, settings

from .completion import choices

METAVARS = {"int": "INT", "float": "FLOAT", "str": "TEXT", "ints": "INT,INT...", "strs": "GLOB", "choice": "NAME"}
# what a text field holds, where TEXT would say nothing
METAVAR_OF = {"data": "FILE", "data_dir": "DIR", "images_key": "KEY", "labels_key": "KEY", "data_memory": "SIZE",
              "augment": "LIST", "init_from": "RUN|FILE", "weights": "FILE|NAME", "log_to": "NAME",
              "mlflow_uri": "URI", "name": "NAME", "runs_dir": "DIR"}
PANELS = {group: group.capitalize() for group in GROUPS}  # `lab train --help`'s sections, in GROUPS' order
RUN_PANEL = PANELS["run"]


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
                          metavar=None if s.kind == "bool" else METAVAR_OF.get(s.name, METAVARS[s.kind]),
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
    from lab_workbench.engine.configfile import layered_values
    return layered_values(config_files(config_file), options_given(kwargs))[0]


def config_from_cli(kwargs: dict, config_file) -> TrainConfig:
    """A validated TrainConfig from the --config files (if any, merged in order) and the flags on top, checked
    as a whole: an error about a file's key names the file and the key."""
    from lab_workbench.engine.configfile import config_from_layers, layered_values
    return config_from_layers(*layered_values(config_files(config_file), options_given(kwargs)))


def config_option():
    """The --config option shared by lab train, lab sweep, lab lr-find and labtui (repeatable)."""
    return typer.Option(None, "--config", metavar="FILE", rich_help_panel=RUN_PANEL,
                        help="read settings from a YAML, TOML or run config.json file; repeat to merge several "
                             "in order; flags override them (see lab train --print-config)")


def config_from_options(kwargs: dict, base: TrainConfig | None = None) -> TrainConfig:
    """A validated TrainConfig: the flags given, on top of `base` (or the defaults)."""
    return config_from_text({s.name: kwargs.get(s.name) for s in settings()}, base)


RESUME_HELP = ("continue a run (folder, name under --runs-dir, 'latest', or 'auto' = the run named by --name "
               "if it exists, else a new one) at the batch where it stopped; may change: "
               + ", ".join(resumable_flags()))


class SectionedCommand(TyperCommand):
    """Plain (click) help with the options in sections: the command's own first, then one per concern
    (rich_help_panel: Data, Model, ... in GROUPS' order), --help last; every placeholder in capitals."""

    def format_options(self, ctx, formatter) -> None:
        sections: dict[str, list] = {"Arguments": [], "Options": []}
        sections.update({title: [] for title in PANELS.values()})
        help_records = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            record = (_capital_placeholders(record[0]), record[1])
            if param.param_type_name == "argument":
                sections["Arguments"].append(record)
            elif param.name == "help":
                help_records.append(record)
            else:
                sections.setdefault(getattr(param, "rich_help_panel", None) or "Options", []).append(record)
        shown = [title for title, records in sections.items() if records] or ["Options"]
        home = next((t for t in ("Options", RUN_PANEL) if t in shown), shown[-1])  # where --help goes
        sections[home] = sections[home] + help_records
        # one first-column width for every section, so that the helps line up down the page (click: <= 30)
        width = min(30, max(len(r[0]) for title in shown for r in sections[title]))
        for title in shown:
            with formatter.section(title):
                formatter.write_dl([(r[0].ljust(width), r[1]) for r in sections[title]])


def _capital_placeholders(opts: str) -> str:
    """'--format <str>' -> '--format TEXT': Typer's plain help writes some placeholders in brackets."""
    import re
    names = {"str": "TEXT", "int": "INT", "float": "FLOAT", "path": "PATH", "file": "FILE", "dir": "DIR"}

    def capital(m) -> str:
        inner = m.group(1).lower().split()[0]  # <int range>: an INT
        inner = inner[5:-1] if inner.startswith("list[") else inner  # a repeatable option: one value each time
        return names.get(inner, inner.upper())
    return re.sub(r"<([^<>]+)>", capital, opts)
