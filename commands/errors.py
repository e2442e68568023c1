"""Turn LabErrors and usage errors into one line on stderr and exit code 2."""

import sys

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> "NoReturn":  # noqa: F821
    """Print `error: message` on stderr and exit."""
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(code)
