"""MatrixMultiply (NONE / TRANSPOSE / VECTOR, broadcast batch) and Einsum."""
from __future__ import annotations

import numpy as np
import pytest
from ref_harness import rng, run


@pytest.mark.parametrize("op0,op1,a_shape,b_shape,expected", [
    ("NONE", "NONE", (2, 3, 4), (2, 4, 5), lambda a, b: a @ b),
    ("TRANSPOSE", "NONE", (2, 4, 3), (1, 4, 5), lambda a, b: a.transpose(0, 2, 1) @ b),
    ("NONE", "TRANSPOSE", (2, 3, 4), (2, 5, 4), lambda a, b: a @ b.transpose(0, 2, 1)),
    ("VECTOR", "NONE", (2, 4), (2, 4, 5), lambda a, b: np.einsum("bk,bkn->bn", a, b)),
    ("NONE", "VECTOR", (2, 3, 4), (2, 4), lambda a, b: np.einsum("bmk,bk->bm", a, b)),
    ("VECTOR", "VECTOR", (3, 4), (3, 4), lambda a, b: (a * b).sum(-1)),
])
def test_matrix_multiply(op0, op1, a_shape, b_shape, expected) -> None:
    r = rng(7)
    a = r.standard_normal(a_shape).astype(np.float32)
    b = r.standard_normal(b_shape).astype(np.float32)

    def build(net, trt, t):
        return net.add_matrix_multiply(t["a"], getattr(trt.MatrixOperation, op0),
                                       t["b"], getattr(trt.MatrixOperation, op1)).get_output(0)

    (got,) = run({"a": a, "b": b}, build)
    np.testing.assert_allclose(got, expected(a.astype(np.float64), b.astype(np.float64)), rtol=1e-5, atol=1e-5)


def test_einsum() -> None:
    r = rng(8)
    a = r.standard_normal((2, 3, 4)).astype(np.float32)
    b = r.standard_normal((2, 4, 5)).astype(np.float32)

    def build(net, trt, t):
        return net.add_einsum([t["a"], t["b"]], "bij,bjk->bik").get_output(0)

    (got,) = run({"a": a, "b": b}, build)
    np.testing.assert_allclose(got, np.einsum("bij,bjk->bik", a.astype(np.float64), b), rtol=1e-5, atol=1e-5)
