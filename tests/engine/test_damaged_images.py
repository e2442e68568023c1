"""Review of the image decoder: a truncated TIFF made PIL warn ("Truncated File Read", "Tag data larger than
file") on stderr around lab predict's one `error:` line per file; the decoder's own error line says it all."""

import io
import warnings

import numpy as np
import pytest
from PIL import Image

from lab_workbench.engine.data.inputs import decode_image
from lab_workbench.engine.core.errors import DataError


def test_a_truncated_tiff_is_one_error_and_no_warning(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(np.arange(20 * 24 * 3, dtype=np.uint8).reshape(20, 24, 3)).save(buf, "TIFF")
    seen = []
    for n in range(8, len(buf.getvalue()), 97):
        path = tmp_path / f"cut{n}.tif"
        path.write_bytes(buf.getvalue()[:n])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                decode_image(path, grayscale=True, size=(8, 8))
            except DataError:
                pass
        seen += [str(w.message) for w in caught]
    assert seen == []


def test_a_decompression_bomb_is_still_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    path = tmp_path / "big.png"
    Image.new("L", (20, 20)).save(path)
    with pytest.raises(DataError, match="too many pixels"):
        decode_image(path, grayscale=True)
