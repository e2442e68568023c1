"""One Registry shape for models and data sets, plugins loaded by the faces, one reader per format."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lab_workbench.engine.core.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parents[2]


def test_built_ins_list_first_even_when_a_plugin_registers_before_any_lookup():
    from lab_workbench.engine.core.registry import Registry
    reg = Registry("--thing", load=lambda: reg.register("builtin", "a built-in")(len))
    reg.register("plugin", "registered by user code")(len)
    assert reg.names() == ["builtin", "plugin"]
    assert reg.get("plugin").description == "registered by user code"
    with pytest.raises(ConfigError, match=r"^--thing: expected one of builtin, plugin, got 'nope'$"):
        reg.get("nope")


def test_importing_the_models_does_not_load_plugins():
    code = "import lab_workbench.engine.models as m; print(len(m.list_models()))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "LAB_PLUGINS": "no_such_plugin_module"})
    assert r.returncode == 0 and int(r.stdout) >= 6, r.stderr[-800:]


@pytest.mark.parametrize("body, expected", [
    ("raise RuntimeError('plugin broke')", "LAB_PLUGINS: cannot import 'badplugin' (RuntimeError: plugin broke)"),
    ("import no_such_dependency_xyz", "LAB_PLUGINS: cannot import 'badplugin' (No module named"),
])
def test_a_bad_plugin_is_one_error_line_from_the_faces(tmp_path, monkeypatch, capsys, body, expected):
    from lab_workbench.commands.app import main
    (tmp_path / "badplugin.py").write_text(body + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("LAB_PLUGINS", "badplugin")
    sys.modules.pop("badplugin", None)
    with pytest.raises(SystemExit) as e:
        main(["models"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith(f"error: {expected}") and err.count("\n") == 1, err


def test_convert_asks_the_data_set_registry(tmp_path):
    from lab_workbench.engine.data.convert import detect_source
    from lab_workbench.engine.data.sources import DATASETS, RawData, register_dataset
    images = np.arange(5 * 4 * 4, dtype=np.uint8).reshape(5, 4, 4)

    @register_dataset("regtiny", "five 4x4 images made by a test")
    def regtiny(root, download):
        return RawData("regtiny", ["a", "b"], images, np.array([0, 1, 0, 1, 1]))
    try:
        src = detect_source("regtiny", data_dir=str(tmp_path))
        chunks = list(src.splits["train"].chunks())
    finally:
        DATASETS.remove("regtiny")
    assert (src.name, src.classes, src.splits["train"].count) == ("regtiny", ["a", "b"], 5)
    assert np.array_equal(np.concatenate([x for x, _ in chunks]), images)


def test_one_idx_reader_whole_or_in_chunks(tmp_path):
    from lab_workbench.engine.data.formats import idx_count, iter_idx, read_idx
    a = np.arange(7 * 3 * 2, dtype=np.uint8).reshape(7, 3, 2)
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in a.shape) + a.tobytes())
    assert idx_count(path) == 7 and np.array_equal(read_idx(path), a)
    assert np.array_equal(np.concatenate(list(iter_idx(path, 3))), a)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DataError, match="IDX header says shape"):
        read_idx(path)


def test_convert_and_predict_decode_an_image_alike(tmp_path):
    from PIL import Image

    from lab_workbench.engine.data.convert import detect_source
    from lab_workbench.engine.data.inputs import read_inputs
    rng = np.random.default_rng(0)
    (tmp_path / "imgs" / "c").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 255, (6, 5, 3), dtype=np.uint8)).save(tmp_path / "imgs" / "c" / "a.png")
    converted = next(detect_source(str(tmp_path / "imgs"), grayscale=True).splits["train"].chunks())[0][0]
    given = read_inputs([str(tmp_path / "imgs")], (1, 6, 5), [0.0], [1.0])
    assert np.array_equal(np.round(given.x[0, 0] * 255).astype(np.uint8), converted)
    assert given.notices == [f"{tmp_path / 'imgs' / 'c' / 'a.png'}: converted RGB to grayscale"]


def test_old_configs_with_extra_still_load():
    from lab_workbench.engine.settings.config import TrainConfig
    cfg = TrainConfig.from_dict({"model": "cnn", "extra": {"note": "from an old checkpoint"}})
    assert cfg.model == "cnn" and not hasattr(cfg, "extra")


def test_an_old_run_record_with_extra_still_reads_as_a_config_file(tmp_path):
    import json

    from lab_workbench.engine.launch.configfile import dump_config, read_config_file
    from lab_workbench.engine.settings.config import TrainConfig
    (tmp_path / "config.json").write_text(json.dumps({"model": "cnn", "lr": 0.01, "extra": {}}))
    assert read_config_file(tmp_path / "config.json") == {"model": "cnn", "lr": 0.01}
    assert "extra" not in dump_config(TrainConfig(), "yaml")
