"""`lab models`: the registered models with a one-line description each (torch is not imported);
`lab models --all` adds torchvision's classification models, as `tv:NAME` (that imports torchvision)."""

import typer


def models_command(
    all_models: bool = typer.Option(False, "--all", help="also list torchvision's classification models "
                                                         "(--model tv:NAME)"),
):
    """List the registered models."""
    from engine.config import model_entries

    entries = model_entries()
    if all_models:
        from engine.model_catalog import torchvision_entries
        entries += torchvision_entries()
    width = max(len(name) for name, _ in entries)
    for name, description in entries:
        print(f"{name:<{width}}  {description}")
