"""One shape for the named things a user chooses (models, data sets, optimizers, schedulers, trackers) and for
the plugins that add to them.

Light on purpose (no numpy, no torch): the faces import it to load plugins and to list names for --help.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Callable

from lab_workbench.engine.core.errors import ConfigError, LabError


@dataclass(frozen=True)
class Entry:
    """A registered name, its one-line description, what it builds or loads, and the settings that only some
    entries read (an optimizer's --momentum): set for an entry that does not read them, they are an error."""

    name: str
    description: str
    fn: Callable
    uses: tuple[str, ...] = ()


class Registry:
    """Named entries added by a decorator that carries the description: `@MODELS.register("mlp", "...")`.

    `load` imports the modules that register the built-in entries; it runs once, before the first lookup
    or registration, so that built-ins always list first and plugins after them.
    """

    def __init__(self, flag: str, load: Callable[[], None], error: type[LabError] = ConfigError):
        self.flag = flag
        self._load = load
        self._error = error
        self._entries: dict[str, Entry] = {}
        self._loaded = False

    def _ensure(self) -> None:
        if not self._loaded:
            self._loaded = True  # first: the modules that `load` imports register through this registry
            self._load()

    def register(self, name: str, description: str, uses: tuple[str, ...] = ()):
        """Decorator: register `fn` under `name` with a one-line `description` (and the settings it `uses`)."""
        self._ensure()
        if not isinstance(name, str) or not name or name.split() != [name]:  # typed after the flag, listed in errors
            raise self._error(f"{self.flag}: expected a name without spaces to register, got {name!r}")

        def deco(fn):
            taken = self._entries.get(name)
            # a taken name is refused: replacing a built-in silently would load old runs with another network
            # (the same function again, a module imported twice, is no clash); `remove` first to replace
            if taken is not None and _qualified(taken.fn) != _qualified(fn):
                raise self._error(f"{self.flag}: {name!r} is already registered ({taken.description}); "
                                  f"choose another name")
            self._entries[name] = Entry(name, description, fn, tuple(uses))
            return fn
        return deco

    def remove(self, name: str) -> None:
        """Forget a registered name (tests and plugins that replace an entry)."""
        self._entries.pop(name, None)

    def entries(self) -> list[Entry]:
        """Every entry, built-ins first, in registration order."""
        self._ensure()
        return list(self._entries.values())

    def names(self) -> list[str]:
        """Every registered name, in listing order."""
        return [e.name for e in self.entries()]

    def __contains__(self, name) -> bool:
        self._ensure()
        return name in self._entries

    def get(self, name: str) -> Entry:
        """The entry of `name`; an unknown name is one error naming the flag and the choices."""
        self._ensure()
        if name not in self._entries:
            raise self._error(f"{self.flag}: expected one of {', '.join(self._entries)}, got {name!r}")
        return self._entries[name]


def _importer(*modules: str) -> Callable[[], None]:
    """A registry's loader that imports the modules registering its built-ins, by name, the way plugins are
    loaded: the config (below them) lists the choices without importing what builds them."""
    import importlib

    def load() -> None:
        for module in modules:
            importlib.import_module(module)
    return load


# the choices of training that lab builds in and plugins add to; each module named here registers its
# built-ins on import and offers a decorator for plugins (register_optimizer, register_scheduler,
# register_tracker); all three are light to import (torch comes only when something is built)
OPTIMIZERS = Registry("--optimizer", _importer("lab_workbench.engine.training.optim"))
SCHEDULERS = Registry("--scheduler", _importer("lab_workbench.engine.training.schedule"))
TRACKERS = Registry("--log-to", _importer("lab_workbench.engine.trackers.tensorboard", "lab_workbench.engine.trackers.mlflow"))


def _qualified(fn) -> tuple:
    """Where `fn` was defined: the same when its module is imported again."""
    return getattr(fn, "__module__", None), getattr(fn, "__qualname__", id(fn))


PLUGIN_GROUP = "lab.plugins"


def load_plugins() -> None:
    """Import the modules named in $LAB_PLUGINS (comma-separated) and the `lab.plugins` entry points, so that
    the models, data sets, optimizers, schedulers and trackers they register work everywhere. The faces call it
    in their `main`; a plugin that fails to import is one ConfigError naming it."""
    import importlib
    names = [n.strip() for n in os.environ.get("LAB_PLUGINS", "").split(",") if n.strip()]
    for name in names:
        _import_plugin(f"LAB_PLUGINS: cannot import {name!r}", lambda n=name: importlib.import_module(n))
    for ep in _entry_points():
        _import_plugin(f"{PLUGIN_GROUP} entry point {ep.name!r}: cannot load {ep.value!r}", ep.load)


@functools.cache
def _entry_points() -> tuple:
    """The installed `lab.plugins` entry points, looked up once per process (the lookup reads every installed
    package's metadata: a tenth of a second, which `main` called again and again would pay each time)."""
    from importlib.metadata import entry_points
    return tuple(entry_points(group=PLUGIN_GROUP))


def _import_plugin(what: str, load: Callable) -> None:
    try:
        load()
    except LabError as e:
        raise ConfigError(f"{what}: {e}") from None
    except KeyboardInterrupt:  # raised by the plugin itself (or Ctrl-C while it imports): still its failure
        raise ConfigError(f"{what} (KeyboardInterrupt on import)") from None
    except SystemExit as e:  # a script turned plugin that parses sys.argv on import: say which plugin
        raise ConfigError(f"{what} (it called sys.exit({e.code!r}) on import)") from None
    except Exception as e:  # a plugin is user code: any failure on import is that plugin's, said in one line
        detail = f"{e}" if isinstance(e, ImportError) else f"{type(e).__name__}: {e}"
        raise ConfigError(f"{what} ({detail})") from None
