"""Engine cache keys of INT8 builds follow the calibration's content, method and batching.

Before: a raw array/object ``calibration=`` was keyed by ``id()`` (two equal arrays missed each
other, a freed id could be reused by other data) and an array's key ignored ``method`` and
batching, so an "mse" and a "max" engine could be served from each other's entry.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trtforge.conversion.api import make_spec
from trtforge.int8.calibration import Calibration, ImageFolder


def _data(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((8, 3, 4, 4)).astype(np.float32)


def _key(calibration: object) -> str | None:
    return make_spec(precision="int8", calibration=calibration).key_dict()["calibration"]


def test_method_and_batching_are_part_of_an_arrays_key() -> None:
    data = _data()
    keys = {Calibration(data=data).cache_key(), Calibration(data=data, method="mse").cache_key(),
            Calibration(data=data, batch_size=4).cache_key(),
            Calibration(data=data, max_batches=1).cache_key()}
    assert len(keys) == 4
    assert Calibration(data=data.copy(), method="mse").cache_key() == \
        Calibration(data=data, method="mse").cache_key()


def test_raw_calibration_is_keyed_by_content_not_identity() -> None:
    data = _data()
    assert _key(data) == _key(data.copy())                      # equal arrays share an entry
    assert _key(data) != _key(_data(1))                         # other values do not
    assert _key([data[:4], data[4:]]) == _key([data[:4].copy(), data[4:].copy()])
    assert _key([data[:4], data[4:]]) != _key([data[:4], _data(1)[4:]])
    assert _key([{"x": data}]) == _key([{"x": data.copy()}])
    assert _key(data) != _key(Calibration(data=data, method="percentile"))


def test_torch_tensors_and_arrays_of_the_same_values() -> None:
    torch = pytest.importorskip("torch")
    data = _data()
    assert _key(torch.from_numpy(data.copy())) == _key(data)


def test_a_generator_is_read_once_for_the_key_and_still_calibrates() -> None:
    data = _data()
    spec = make_spec(precision="int8", calibration=(data[i:i + 2] for i in range(0, 8, 2)))
    assert spec.key_dict()["calibration"] == _key([data[i:i + 2] for i in range(0, 8, 2)])
    batches = list(spec.calibration.batches(["x"]))
    assert len(batches) == 4 and np.array_equal(batches[3]["x"], data[6:])


def test_only_int8_keys_name_calibration() -> None:
    assert make_spec(precision="fp16", calibration=_data()).key_dict()["calibration"] is None


def test_image_folder_key_follows_its_files(tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(folder / "a.png")

    def prep(image: object) -> np.ndarray:
        return np.asarray(image, dtype=np.float32)

    first = Calibration(data=ImageFolder(folder, prep)).cache_key()
    assert Calibration(data=ImageFolder(folder, prep)).cache_key() == first
    Image.new("RGB", (4, 4), (1, 2, 3)).save(folder / "b.png")
    assert Calibration(data=ImageFolder(folder, prep)).cache_key() != first
