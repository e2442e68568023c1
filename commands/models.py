"""`lab models`: the registered models with a one-line description each (torch is not imported)."""


def models_command():
    """List the registered models."""
    from engine.config import model_entries

    entries = model_entries()
    width = max(len(name) for name, _ in entries)
    for name, description in entries:
        print(f"{name:<{width}}  {description}")
