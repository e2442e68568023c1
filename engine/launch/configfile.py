"""Config files for `lab train --config`: YAML, TOML or a run's own config.json, checked like the flags.

A file's values go through the same Setting.parse and TrainConfig.validate as the flags, so a bad value
gets the flag's error text, with the file and the key named instead of the flag.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from lab_workbench.engine.settings.config import SETTINGS_BY_NAME, TrainConfig, _suggest, check_field
from lab_workbench.engine.core.errors import ConfigError

FORMATS = ("yaml", "toml", "json")
CONFIG_LIMIT = 1 << 20  # a config file holds a few dozen settings: a larger one would only take time to parse
MAX_ITEMS = 10_000  # items in one value: a YAML alias bomb shares its lists, and repr() of it would not end


def _parse_text(path: Path, text: str):
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml
        return yaml.safe_load(text)
    if suffix == ".toml":
        import tomllib
        return tomllib.loads(text)
    if suffix == ".json":
        return json.loads(text)
    raise ConfigError(f"--config {path}: expected a .yaml, .yml, .toml or .json file")


def read_config_file(path: str | Path) -> dict:
    """{field: value} of a config file (or of a run folder's config.json); a one-line ConfigError naming the
    file when it cannot be read or parsed, or a key is unknown or a value bad."""
    path = Path(path)
    if path.is_dir():
        from lab_workbench.engine.runs.folder import RunFolder
        path = RunFolder(path).config
    from lab_workbench.engine.core.files import read_limited
    data = read_limited(path, CONFIG_LIMIT, f"--config {path}", pipe_ok=True, error=ConfigError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"--config {path}: cannot read ({e})") from None
    try:
        data = _parse_text(path, text)
    except ConfigError:
        raise
    except Exception as e:  # yaml, toml and json each raise their own error types
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"--config {path}: not valid {path.suffix.lstrip('.').upper()} ({first})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"--config {path}: expected a mapping of settings, got {type(data).__name__}")
    if isinstance(data.get("config"), dict):
        data = data["config"]  # a run folder's config.json (or results.json): the record of what ran
    return check_values(data, path)


def check_values(data: dict, path: Path) -> dict:
    """Each key known and each value valid alone (its type and range); returns the parsed values (None: unset).
    What the values mean together is checked once the whole config is made (config_from_layers)."""
    out = {}
    for key, raw in data.items():
        if key == "extra":  # a free-form field that run records of older versions carry; nothing reads it
            continue
        s = SETTINGS_BY_NAME.get(str(key).replace("-", "_"))
        if s is None:
            raise ConfigError(f"{path}: unknown key {str(key)[:60]!r}" + _suggest(str(key)[:60], list(SETTINGS_BY_NAME)))
        _check_items(raw, path, key)
        try:
            value = s.parse(raw)
            if value is not None:
                check_field(s.name, value)
        except ConfigError as e:
            raise _in_file(e, path, key) from None
        out[s.name] = value
    return out


def _check_items(value, path: Path, key) -> None:
    """A ConfigError when a value holds more than MAX_ITEMS items (shared ones counted each time they occur),
    before anything walks or prints it."""
    stack, seen = [value], 0
    while stack:
        v = stack.pop()
        seen += 1
        if seen > MAX_ITEMS:
            raise ConfigError(f"{path}: key {str(key)[:60]!r}: expected a setting, got a value of more than "
                              f"{MAX_ITEMS:,} items")
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)


def _in_file(error: ConfigError, path, key: str) -> ConfigError:
    """The flag's error text, naming the file and the key instead of the flag: "c.yaml: key 'lr': ..."."""
    message, flag = str(error), SETTINGS_BY_NAME[str(key).replace("-", "_")].flag
    if message.startswith(flag + ":"):
        message = message[len(flag) + 1:].strip()
    return ConfigError(f"{path}: key {key!r}: {message[:300]}")


def layered_values(paths, flags: dict) -> tuple[dict, dict]:
    """(values, origins): the config files' values merged in order, the flags on top (a None is unset and
    overrides nothing); origins maps each key that a file set (and no flag overrode) to that file."""
    values, origins = {}, {}
    for path in paths or ():
        for key, value in read_config_file(path).items():
            if value is not None:
                values[key], origins[key] = value, Path(path)
    for key, value in flags.items():
        if value is not None:
            values[key] = value
            origins.pop(key, None)
    return values, origins


def config_from_layers(values: dict, origins: dict) -> TrainConfig:
    """A TrainConfig from layered_values, checked as a whole (the flags' rules); an error about a key that a
    file set names that file and key."""
    from lab_workbench.engine.settings.config import config_from_text
    from lab_workbench.engine.launch.preflight import with_run_architecture
    try:
        return config_from_text(with_run_architecture(values))
    except ConfigError as e:
        flag = str(e).split(":", 1)[0].split(" ", 1)[0]
        key = flag[2:].replace("-", "_")
        if flag.startswith("--") and key in origins:
            raise _in_file(e, origins[key], key) from None
        raise


def dump_config(cfg: TrainConfig, fmt: str = "yaml") -> str:
    """The complete config as YAML, TOML or JSON text that `--config` reads back. TOML has no null: unset
    fields become comments, so that every key is there to edit."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    values = cfg.to_dict()
    if fmt == "json":
        return json.dumps(values, indent=2) + "\n"
    return "\n".join(_lines(values, _yaml_line if fmt == "yaml" else _toml_line)) + "\n"


def _lines(values: dict, line) -> list[str]:
    """One line per key, under a comment naming its group (data, model, optimisation, ...), as --help does."""
    from lab_workbench.engine.settings.config import GROUPS
    order = {key: GROUPS.index(s.group) if s.group in GROUPS else len(GROUPS) for key, s in SETTINGS_BY_NAME.items()}
    out, group = [], None
    for key, value in sorted(values.items(), key=lambda kv: order.get(kv[0], len(GROUPS))):
        s = SETTINGS_BY_NAME.get(key)
        if s is not None and s.group != group:
            group = s.group
            out += ([""] if out else []) + [f"# {group}"]
        out.append(line(key, value))
    return out


def _yaml_line(key: str, value) -> str:
    import yaml
    return yaml.safe_dump({key: value}, default_flow_style=True, width=10_000).strip()[1:-1].strip()


def _toml_line(key: str, value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f"# {key} ="  # TOML has no null: an unset field is a comment, there to fill in
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return f"{key} = [{', '.join(str(v) for v in value)}]"
    import tomli_w
    return tomli_w.dumps({key: value}).strip()
