"""`lab models`: the registered models with a one-line description each (torch is not imported);
`lab models --all` adds torchvision's classification models, as `tv:NAME` (that imports torchvision)."""

import typer


def models_command(
    all_models: bool = typer.Option(False, "--all", help="also list torchvision's classification models "
                                                         "(--model tv:NAME)"),
):
    """List the registered models."""
    import textwrap

    from lab_workbench.engine.settings.config import model_entries

    from .textviz import terminal_width

    entries = model_entries()
    if all_models:
        from lab_workbench.engine.models.catalog import torchvision_entries
        entries += torchvision_entries()
    width = max(len(name) for name, _ in entries)
    limit = terminal_width()  # a long description wraps under itself instead of past the terminal's edge
    for name, description in entries:
        line = f"{name:<{width}}  {description}"
        if limit and len(line) > limit:
            line = "\n".join(textwrap.wrap(line, limit, subsequent_indent=" " * (width + 2)))
        print(line)
