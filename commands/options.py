"""`lab train` flags, generated from TrainConfig's field metadata (engine.settings.config.settings), and the same
fields as options of other commands (setting_option, setting_type: --data-dir, --device, --threads...)."""

import inspect
from typing import Annotated, List, Optional

import typer
from typer.core import TyperCommand

from lab_workbench.engine.settings.config import GROUPS, TrainConfig, config_from_text, resumable_flags, settings

from .completion import choices

METAVARS = {"int": "INT", "float": "FLOAT", "str": "TEXT", "ints": "INT,INT...", "strs": "GLOB", "choice": "NAME"}
# what a text field holds, where TEXT would say nothing
METAVAR_OF = {"data": "FILE", "data_dir": "DIR", "images_key": "KEY", "labels_key": "KEY", "data_memory": "SIZE",
              "augment": "LIST", "init_from": "RUN|FILE", "weights": "FILE|NAME", "log_to": "NAME",
              "mlflow_uri": "URI", "name": "NAME", "runs_dir": "DIR"}
PANELS = {group: group.capitalize() for group in GROUPS}  # `lab train --help`'s sections, in GROUPS' order
RUN_PANEL = PANELS["run"]


def _help(s, text: str | None = None, train: bool = True) -> str:
    """The setting's help (or a command's own wording of it), its choices and default; for `lab train`, also
    whether it may change on --resume."""
    text = text or s.help
    if s.kind == "choice" and s.name != "model":  # listing models would import torch into --help
        text += f"; one of: {', '.join(s.options())}"
    elif s.kind == "strs" and s.choices is not None:
        text += f"; any of: {', '.join(s.options())}"
    if s.default not in (None, False, "", [], {}):
        text += f" (default: {s.default})"
    if s.resumable and train:
        text += " (may change on --resume)"
    return text


def _metavar(s) -> str | None:
    return None if s.kind == "bool" else METAVAR_OF.get(s.name, METAVARS[s.kind])


def setting_option(name: str, help_text: str | None = None):
    """The option of a TrainConfig field for a command other than `lab train` (`data_dir: Optional[str] =
    setting_option("data_dir")`): its flag, default, metavar, completion and checks are the field's, so a bad
    value gets the same one-line error from every command; `help_text` is the command's own wording."""
    from lab_workbench.engine.settings.config import SETTINGS_BY_NAME
    s = SETTINGS_BY_NAME[name]
    return typer.Option(s.default, s.flag, **_option_of(name, help_text))


def setting_type(name: str, typ, help_text: str | None = None):
    """setting_option as an `Annotated` type, for options declared once in commands.common and shared by many
    commands; the default stays in each signature (`runs_dir: RunsDir = "runs"`)."""
    from lab_workbench.engine.core.errors import flag_of
    return Annotated[typ, typer.Option(flag_of(name), **_option_of(name, help_text))]


def _option_of(name: str, help_text: str | None) -> dict:
    from lab_workbench.engine.settings.config import SETTINGS_BY_NAME, check_field
    s = SETTINGS_BY_NAME[name]

    def parse(text):
        value = s.parse(text)
        check_field(name, value)
        return value
    return dict(help=_help(s, help_text, train=False), show_default=False,
                metavar=_metavar(s), callback=parse, autocompletion=choices(s.name) if s.choices is not None else None)


def _parameter(s) -> inspect.Parameter:
    decls = [f"{s.flag}/--no-{s.flag[2:]}" if s.kind == "bool" else s.flag]
    if s.short:
        decls.append(s.short)
    # every value arrives as text and is parsed by the engine: the CLI and the form share one error text
    option = typer.Option(None, *decls, help=_help(s), show_default=False, rich_help_panel=PANELS[s.group],
                          metavar=_metavar(s),
                          autocompletion=choices(s.name) if s.choices is not None else None)
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
    from lab_workbench.engine.launch.configfile import layered_values
    return layered_values(config_files(config_file), options_given(kwargs))[0]


def config_from_cli(kwargs: dict, config_file) -> TrainConfig:
    """A validated TrainConfig from the --config files (if any, merged in order) and the flags on top, checked
    as a whole: an error about a file's key names the file and the key."""
    from lab_workbench.engine.launch.configfile import config_from_layers, layered_values
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
            _fresh_choices(param)
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


def _fresh_choices(param) -> None:
    """The choices in a TrainConfig option's help as the registries hold them now: the help was written when
    the command was declared, before the plugins (which may register optimizers, data sets...) were loaded."""
    import re
    from lab_workbench.engine.settings.config import SETTINGS_BY_NAME
    s = SETTINGS_BY_NAME.get(param.name)
    if s is not None and s.choices is not None and re.search("; (one|any) of: ", getattr(param, "help", None) or ""):
        param.help = re.sub(r"; (one|any) of: [^()]*?(?= \(|$)",
                            lambda m: f"; {m.group(1)} of: {', '.join(s.options())}", param.help, count=1)


def _capital_placeholders(opts: str) -> str:
    """'--format <str>' -> '--format TEXT': Typer's plain help writes some placeholders in brackets."""
    import re
    names = {"str": "TEXT", "int": "INT", "float": "FLOAT", "path": "PATH", "file": "FILE", "dir": "DIR"}

    def capital(m) -> str:
        inner = m.group(1).lower().split()[0]  # <int range>: an INT
        inner = inner[5:-1] if inner.startswith("list[") else inner  # a repeatable option: one value each time
        return names.get(inner, inner.upper())
    return re.sub(r"<([^<>]+)>", capital, opts)
