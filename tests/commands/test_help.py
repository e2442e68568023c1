"""What `--help` and `--version` print: defaults, choices, the extras flags need, examples."""

import pytest

from commands.app import EXAMPLES
from tests.helpers import lab_here


def help_of(*cmd):
    r = lab_here(*cmd, "--help", cwd=".")
    assert r.returncode == 0, r.stderr
    return "".join(r.stdout.split())  # unwrapped: click may break lines inside a word like --data-dir


def has(text, *phrases):
    return all("".join(p.split()) in text for p in phrases)


def test_train_help_shows_defaults_choices_and_what_may_change_on_resume():
    text = help_of("train")
    assert has(text, "learning rate (default: 0.001)", "number of epochs (default: 10)")
    assert has(text, "one of: sgd, adam, adamw, rmsprop", "one of: digits, mnist, fashion, cifar10")
    assert has(text, "may change: --data-dir, --download, --data-memory, --stream, --lr, --epochs, --clip-grad, --patience")
    assert "<bool>" not in text


@pytest.mark.parametrize("cmd", list(EXAMPLES))
def test_every_command_help_ends_with_examples(cmd):
    text = help_of(cmd)
    assert has(text, "Examples:", *EXAMPLES[cmd])


def test_bracketed_defaults_and_extras_are_shown():
    assert has(help_of("convert"), "[default: detect]")
    assert has(help_of("eval"), "needs lab[plots]")
    assert has(help_of("export"), "[default: RUN_DIR/export/model.*]")


def test_version():
    from importlib.metadata import version
    r = lab_here("--version", cwd=".")
    assert r.returncode == 0 and r.stdout.strip() == f"lab {version('lab')}"
