"""`lab models`: the registered models with a one-line description each."""


def models_command():
    """List the registered models."""
    from engine.models import list_models

    entries = list_models()
    width = max(len(e.name) for e in entries)
    for e in entries:
        print(f"{e.name:<{width}}  {e.description}")
