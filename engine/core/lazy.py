"""Lazy package attributes (PEP 562), so that importing a light module does not pull in torch."""

from importlib import import_module


def lazy_getattr(exports: dict[str, str], namespace: dict, package: str):
    """A module-level __getattr__ that imports `exports[name]` on first use and caches the value."""
    def __getattr__(name):
        if name in exports:
            value = getattr(import_module(exports[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return __getattr__
