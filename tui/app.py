"""labtui entry point (the dashboard lands with the TUI issue)."""


def main() -> None:
    raise SystemExit("labtui: not built yet")
