"""Issue 20, part A: exports that can run code (.pt2, TorchScript) are refused without --trust-code; exports
and checkpoints with bad lab metadata give one line; every export format survives a full disk."""

import errno
import os
import json
import pickle
import subprocess
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers import lab_here, mount_tmpfs, run_lab

COMMANDS = ("eval", "predict", "inspect-weights", "export")


class _Touch:
    """A pickle that creates a file when it is loaded: the marker of code having run."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class _FromFile(torch.nn.Module):
    """A TorchScript module whose __setstate__ (run by torch.jit.load) creates a file with torch.from_file."""

    def __init__(self, marker: str):
        super().__init__()
        self.marker = marker
        self.t = torch.zeros(1, dtype=torch.uint8)

    def forward(self, x):
        return x

    @torch.jit.export
    def __getstate__(self):
        return (self.marker, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, bool]):
        self.marker = state[0]
        self.training = state[1]
        self.t = torch.from_file(self.marker, True, 1)


@pytest.fixture(scope="module")
def made(trained_runs, tmp_path_factory):
    """One tiny run, its genuine exports (.pt2, TorchScript, ONNX) and malicious .pt2/TorchScript files."""
    from lab_workbench.engine.artifacts.export import export_model
    from lab_workbench.engine.artifacts.loading import load_model
    tmp = tmp_path_factory.mktemp("trust")
    run = trained_runs.get("logistic", into=tmp)
    loaded = load_model(run)
    x = torch.randn(4, 1, 8, 8)
    files = {fmt: export_model(loaded, fmt, x, tmp / f"model{ext}").path
             for fmt, ext in (("export", ".pt2"), ("torchscript", ".torchscript.pt"), ("onnx", ".onnx"))}
    files["run"] = Path(run)
    with zipfile.ZipFile(files["export"]) as zin, zipfile.ZipFile(tmp / "evil.pt2", "w") as zout:
        for info in zin.infolist():  # torch.export unpickles the sample inputs with weights_only=False
            data = pickle.dumps(_Touch(tmp / "marker")) if info.filename.endswith("sample_inputs/model.pt") \
                else zin.read(info.filename)
            zout.writestr(info, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.script(_FromFile(str(tmp / "marker"))), str(tmp / "evil.torchscript.pt"))
    np.save(tmp / "one.npy", np.zeros((8, 8), np.uint8))
    return tmp, files


def _args(command, target, tmp):
    extra = {"predict": [tmp / "one.npy"], "export": ["--format", "safetensors", "--out", tmp / "x.safetensors"]}
    return [command, target, *extra.get(command, [])]


def _one_line_error(r, *words):
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()  # predict may add notices (e.g. "resized 8x8 -> 4x4")
    assert [line.startswith("error:") for line in lines if not line.startswith("notice:")] == [True], r.stderr
    assert "Traceback" not in r.stderr
    for w in words:
        assert str(w) in r.stderr, (w, r.stderr)


@pytest.mark.parametrize("name", ["evil.pt2", "evil.torchscript.pt"])
def test_executable_exports_never_run_without_trust_code(made, name):
    tmp, _ = made
    marker = tmp / "marker"
    marker.unlink(missing_ok=True)
    for command in COMMANDS:
        r = lab_here(*_args(command, tmp / name, tmp), cwd=tmp)
        _one_line_error(r, tmp / name, "--trust-code", "safetensors", "ONNX")
        assert not marker.exists(), f"{command} ran the code in {name}"
    assert not (tmp / "x.safetensors").exists()
    lab_here("inspect-weights", tmp / name, "--trust-code", cwd=tmp)
    assert marker.exists()  # the file is really malicious: trusting it runs its code
    marker.unlink()


def test_renamed_executable_files_are_refused_too(made, tmp_path):
    """A TorchScript archive or a .pt2 given a checkpoint's name is sniffed, or loaded with weights_only."""
    tmp, _ = made
    marker = tmp / "marker"
    marker.unlink(missing_ok=True)
    for name, fake in (("evil.torchscript.pt", "best.pt"), ("evil.pt2", "model.pt")):
        (tmp_path / fake).write_bytes((tmp / name).read_bytes())
        for command in ("eval", "predict", "export"):
            r = lab_here(*_args(command, tmp_path / fake, tmp), cwd=tmp)
            _one_line_error(r, tmp_path / fake, "--trust-code")
            assert not marker.exists()


def test_genuine_pt2_and_onnx_are_inspected_and_pt2_exports_to_safetensors(made, tmp_path):
    tmp, files = made
    expected = json.loads(lab_here("inspect-weights", files["run"], "--json", cwd=tmp).stdout)["total"]["count"]
    for target, extra in ((files["export"], ["--trust-code"]), (files["onnx"], []),
                          (files["torchscript"], ["--trust-code"])):
        r = lab_here("inspect-weights", target, "--json", *extra, cwd=tmp)
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        assert info["total"]["count"] == expected and {t["name"] for t in info["tensors"]} == {"1.weight", "1.bias"}
    r = lab_here("inspect-weights", files["onnx"], cwd=tmp)
    assert r.returncode == 0 and "1.weight" in r.stdout, r.stderr
    r = lab_here("inspect-weights", files["onnx"], "--filters", cwd=tmp)
    _one_line_error(r, "--filters")
    out = tmp_path / "from_pt2.safetensors"
    r = lab_here("export", files["export"], "--trust-code", "--format", "safetensors", "--out", out, cwd=tmp)
    assert r.returncode == 0 and ".tmp" not in r.stdout + r.stderr, r.stderr
    r = lab_here("inspect-weights", out, "--json", cwd=tmp)
    assert json.loads(r.stdout)["total"]["count"] == expected


def test_export_errors_name_the_output_not_a_temp_path(made, tmp_path, monkeypatch):
    import lab_workbench.engine.artifacts.export as ex
    from lab_workbench.engine.core.errors import CheckpointError
    tmp, files = made

    def unreadable(path, device="cpu"):
        raise CheckpointError(f"{path}: not a readable safetensors file (injected)")
    monkeypatch.setattr(ex, "load_safetensors", unreadable)
    out = tmp_path / "m.safetensors"
    r = lab_here("export", files["run"], "--format", "safetensors", "--out", out, cwd=tmp)
    _one_line_error(r, out)
    assert ".tmp" not in r.stderr and not list(tmp_path.iterdir())


def _onnx_with_meta(src, dst, value):
    import onnx
    proto = onnx.load(str(src))
    for p in proto.metadata_props:
        if p.key == "lab":
            p.value = value
    onnx.save(proto, str(dst))
    return dst


def _torchscript_with_meta(src, dst, value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.load(str(src)), str(dst), _extra_files={"lab.json": value})
    return dst


BAD_META = {
    "not json": "{config",
    "a list": "[1, 2]",
    "shape a string": lambda m: m["data"].__setitem__("input_shape", "abc"),
    "shape of 2": lambda m: m["data"].__setitem__("input_shape", [8, 8]),
    "no mean": lambda m: m["data"].pop("mean"),
    "classes short": lambda m: m["data"].__setitem__("classes", ["a"]),
    "classes -3": lambda m: m["data"].__setitem__("num_classes", -3),
    "config a list": lambda m: m.__setitem__("config", [1]),
    "shape of another model": lambda m: m["data"].__setitem__("input_shape", [1, 4, 4]),
}


def _bad(meta_text, how):
    if isinstance(how, str):
        return how
    meta = json.loads(meta_text)
    how(meta)
    return json.dumps(meta)


def test_bad_lab_metadata_in_onnx_and_torchscript_is_one_line(made, tmp_path):
    import onnx
    tmp, files = made
    good = {p.key: p.value for p in onnx.load(str(files["onnx"])).metadata_props}["lab"]
    for i, (label, how) in enumerate(BAD_META.items()):
        for kind, write, extra in (("onnx", _onnx_with_meta, []), ("torchscript", _torchscript_with_meta,
                                                                    ["--trust-code"])):
            bad = write(files[kind], tmp_path / f"{i}.{kind}", _bad(good, how))
            r = lab_here("predict", bad, tmp / "one.npy", *extra, cwd=tmp)
            _one_line_error(r, bad, "metadata")


def test_onnx_with_external_data_is_refused(made, tmp_path):
    import onnx
    tmp, files = made
    proto = onnx.load(str(files["onnx"]))
    onnx.save_model(proto, str(tmp_path / "ext.onnx"), save_as_external_data=True, location="w.bin",
                    size_threshold=1024)  # the weight matrix goes to w.bin
    r = lab_here("predict", tmp_path / "ext.onnx", tmp / "one.npy", cwd=tmp)
    _one_line_error(r, tmp_path / "ext.onnx", "external data")


def test_checkpoint_without_input_shape_or_with_bad_facts_is_one_line(made, tmp_path):
    tmp, files = made
    state = torch.load(files["run"] / "best.pt", weights_only=True)
    for i, how in enumerate([lambda d: d.pop("input_shape"), lambda d: d.__setitem__("std", "x"),
                             lambda d: d.__setitem__("classes", 3)]):
        bad = {**state, "data": dict(state["data"])}
        how(bad["data"])
        torch.save(bad, tmp_path / f"{i}.pt")
        for command in ("eval", "predict", "inspect-weights", "export"):
            r = lab_here(*_args(command, tmp_path / f"{i}.pt", tmp), cwd=tmp)
            _one_line_error(r, tmp_path / f"{i}.pt")


@pytest.mark.parametrize("fmt", ["torchscript", "export", "onnx", "safetensors"])
def test_no_space_left_is_one_line_and_keeps_earlier_files(made, tmp_path, monkeypatch, fmt):
    import lab_workbench.engine.artifacts.export as ex
    tmp, files = made
    out = tmp_path / f"m.{fmt}"
    out.write_bytes(b"earlier export")

    def full(path, data):
        Path(path).write_bytes(data[:10])
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(ex, "_write_bytes", full)
    r = lab_here("export", files["run"], "--format", fmt, "--out", out, "--force", cwd=tmp)
    _one_line_error(r, out, "no space left")
    assert out.read_bytes() == b"earlier export" and [p.name for p in tmp_path.iterdir()] == [out.name]


@pytest.fixture
def full_tmpfs(tmp_path):
    """A 1 MiB tmpfs filled up but for a few kB (skipped where mounting is not permitted)."""
    folder = mount_tmpfs(tmp_path / "small", "1m")
    try:
        (folder / "earlier.pt").write_bytes(b"earlier")
        fd = os.open(folder / "fill", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * (64 << 10)):
                pass
        except OSError:
            pass
        os.close(fd)
        os.truncate(folder / "fill", os.path.getsize(folder / "fill") - (4 << 10))
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_torchscript_export_on_a_real_full_disk(made, full_tmpfs):
    tmp, files = made
    out = full_tmpfs / "earlier.pt"
    r = run_lab("export", files["run"], "--format", "torchscript", "--out", out, "--force", cwd=tmp)
    _one_line_error(r, out, "no space left")
    assert out.read_bytes() == b"earlier"
    assert sorted(p.name for p in full_tmpfs.iterdir()) == ["earlier.pt", "fill"]
