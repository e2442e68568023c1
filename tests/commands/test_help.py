"""What `--help` and `--version` print: defaults, choices, the extras flags need, examples."""

import pytest

from lab_workbench.commands.app import EXAMPLES
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
    assert has(text, "may change: --data-dir, --download, --data-memory, --stream, --allow-external-h5, --lr, "
                     "--epochs, --clip-grad, --patience")
    assert "<bool>" not in text


@pytest.mark.parametrize("cmd", list(EXAMPLES))
def test_every_command_help_ends_with_examples(cmd):
    text = help_of(cmd)
    assert has(text, "Examples:", *EXAMPLES[cmd])


def test_bracketed_defaults_and_extras_are_shown():
    assert has(help_of("convert"), "[default: detect]")
    assert has(help_of("eval"), "needs lab-workbench[plots]")
    assert has(help_of("export"), "[default: RUN_DIR/export/model.*]")


def test_version():
    from importlib.metadata import version
    r = lab_here("--version", cwd=".")
    assert r.returncode == 0 and r.stdout.strip() == f"lab {version('lab-workbench')}"


SECTIONS = ("Data", "Model", "Optimisation", "Schedule", "Run", "Trackers")


def _sections(text: str) -> dict[str, list[str]]:
    """{section title: the options it lists} of a plain --help text."""
    out, current = {}, None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = out.setdefault(line[:-1], [])
        elif current is not None and line.startswith("  -"):
            current.append(line.split()[0].rstrip(","))
            current += [w.rstrip(",") for w in line.split()[1:3] if w.startswith("--")]
    return out


def test_train_help_is_grouped_by_concern():
    r = lab_here("train", "--help", cwd=".")
    sections = _sections(r.stdout)
    assert [s for s in sections if s in SECTIONS] == list(SECTIONS), list(sections)
    where = {flag: title for title, flags in sections.items() for flag in flags}
    for flag, title in {"--data": "Data", "--subset": "Data", "--model": "Model", "--freeze": "Model",
                        "--lr": "Optimisation", "--optimizer": "Optimisation", "--batch-size": "Optimisation",
                        "--scheduler": "Schedule", "--epochs": "Schedule", "--patience": "Schedule",
                        "--monitor": "Schedule", "--name": "Run", "--json": "Run", "--config": "Run",
                        "--resume": "Run", "--log-to": "Trackers", "--mlflow-uri": "Trackers"}.items():
        assert where.get(flag) == title, (flag, where.get(flag))


@pytest.mark.parametrize("cmd", list(EXAMPLES))
def test_one_placeholder_style(cmd):
    """No command shows Typer's <str> or <list[str]>; lab train's placeholders are all capitals."""
    import re
    r = lab_here(cmd, "--help", cwd=".")
    for line in r.stdout.splitlines():
        m = re.match(r"  (?:-\w, )?--[\w-]+ (\S+)", line)  # an option line, not a wrapped help
        if m and m.group(1) != "/":  # --download / --no-download: no value
            assert not m.group(1).startswith("<"), line
            if cmd == "train":
                assert re.fullmatch(r"[A-Z][A-Z0-9_|,.]*", m.group(1)), line


def test_runs_help_says_the_default_once():
    r = lab_here("runs", "--help", cwd=".")
    assert r.stdout.count("[default: time]") == 1, r.stdout
