"""Review of the one Registry: a plugin that registers a built-in's name does not silently replace it (old runs
of --model mlp would load the plugin's network, and the torch-free catalog would still describe the built-in)."""

import sys

import pytest

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.models import MODELS
from lab_workbench.engine.core.registry import Registry, load_plugins

CLASH = '''
from lab_workbench.engine.models import register_model

@register_model("mlp", "not the built-in mlp")
def mlp(input_shape, num_classes):
    raise AssertionError("the plugin's mlp was built")
'''


def test_registering_a_taken_name_is_one_error_naming_flag_and_name():
    reg = Registry("--thing", load=lambda: None)
    reg.register("a", "first")(len)
    with pytest.raises(ConfigError, match=r"--thing: 'a' is already registered"):
        reg.register("a", "second")(abs)
    assert reg.get("a").fn is len
    reg.register("a", "first")(len)  # the same function again (a module imported twice) is no clash


def test_a_plugin_that_registers_a_built_in_name_fails_to_load_and_the_built_in_stays(tmp_path, monkeypatch):
    builtin = MODELS.get("mlp")
    (tmp_path / "review_clash_plugin.py").write_text(CLASH)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("LAB_PLUGINS", "review_clash_plugin")
    try:
        with pytest.raises(ConfigError, match=r"review_clash_plugin.*'mlp' is already registered"):
            load_plugins()
        assert MODELS.get("mlp") == builtin
    finally:
        sys.modules.pop("review_clash_plugin", None)
        MODELS._entries["mlp"] = builtin  # leave the process as found, whatever the outcome


def test_a_plugin_that_exits_on_import_is_one_error_naming_it(tmp_path, monkeypatch):
    # e.g. a script turned plugin that parses sys.argv with argparse at import: it used to end lab with the
    # plugin's own usage message and no word of which plugin
    (tmp_path / "review_exit_plugin.py").write_text("import sys\nsys.exit('bye')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("LAB_PLUGINS", "review_exit_plugin")
    try:
        with pytest.raises(ConfigError, match=r"LAB_PLUGINS: cannot import 'review_exit_plugin' \(.*exit.*bye"):
            load_plugins()
    finally:
        sys.modules.pop("review_exit_plugin", None)


@pytest.mark.parametrize("name", [123, "", "two words", None])
def test_a_name_that_cannot_be_typed_as_a_flag_value_is_refused(name):
    # a plugin's register_model(123, ...) used to break every later `--model nope` error (str.join on an int)
    reg = Registry("--thing", load=lambda: None)
    with pytest.raises(ConfigError, match="--thing: expected a name"):
        reg.register(name, "bad")(len)
    with pytest.raises(ConfigError, match="expected one of"):
        reg.get("nope")
