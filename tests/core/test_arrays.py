"""The shared array helpers: one to-numpy, one cosine, one seeded-input generator."""
from __future__ import annotations

import numpy as np
import pytest

from trtforge.arrays import cosine_similarity, seeded_inputs, to_numpy


def test_to_numpy_takes_arrays_lists_and_torch_tensors() -> None:
    torch = pytest.importorskip("torch")
    assert to_numpy([1, 2]).tolist() == [1, 2]
    half = torch.ones(2, 3, dtype=torch.bfloat16, requires_grad=True)
    assert to_numpy(half).dtype == np.float32 and to_numpy(half).shape == (2, 3)
    array = np.arange(3)
    assert to_numpy(array) is array


def test_cosine_of_flattened_values_and_all_zeros() -> None:
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert cosine_similarity(a, a) == pytest.approx(1.0)
    assert cosine_similarity(a, -a) == pytest.approx(-1.0)
    zeros = np.zeros(4)
    assert cosine_similarity(zeros, zeros) == 1.0 and cosine_similarity(zeros, np.ones(4)) == 0.0
    assert cosine_similarity(zeros, np.ones(4), when_zero=1.0) == 1.0


def test_seeded_inputs_are_reproducible_and_typed() -> None:
    wanted = [((2, 3), "float32"), ((4,), "int64"), ((3,), "bool"), ((2,), "bfloat16")]
    first, again = seeded_inputs(wanted, seed=3), seeded_inputs(wanted, seed=3)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert [v.dtype for v in first] == [np.float32, np.int64, np.bool_, np.float32]
    assert first[1].min() >= 0 and first[1].max() <= 9
    assert not np.array_equal(first[0], seeded_inputs(wanted, seed=4)[0])


def test_compare_and_check_draw_the_same_default_inputs() -> None:
    from trtforge.verify.checking import default_inputs
    from trtforge.report.comparison import _batch_from_engine

    class Snap:
        inputs = [{"name": "x", "shape": [2, 3], "dtype": "float32"},
                  {"name": "ids", "shape": [2], "dtype": "int32"}]
        profiles: list = []

    metadata = {"inputs": Snap.inputs, "profiles": []}
    checked = default_inputs(Snap(), seed=0)
    compared = _batch_from_engine(metadata)
    np.testing.assert_array_equal(checked["x"], compared[0])
    np.testing.assert_array_equal(checked["ids"], compared[1])


def test_default_inputs_take_the_profile_opt_and_a_benchmark_batch() -> None:
    """Program.benchmark feeds: the opt shape of each profile (a non-batch dim whose profile
    starts above 1 is kept), with the batch asked for where the batch is dynamic."""
    from trtforge.arrays import default_inputs

    class Io:
        inputs = [{"name": "x", "shape": [-1, 3, -1], "dtype": "float32"},
                  {"name": "scale", "shape": [4], "dtype": "float32"}]
        profiles = [{"name": "x", "profiles": [{"min": [1, 3, 8], "opt": [2, 3, 16], "max": [8, 3, 32]}]}]

    plain = default_inputs(Io())
    assert plain["x"].shape == (2, 3, 16) and plain["scale"].shape == (4,)
    timed = default_inputs(Io(), batch_size=8)
    assert timed["x"].shape == (8, 3, 16) and timed["scale"].shape == (4,)
