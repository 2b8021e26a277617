"""``trtforge_uff.UffParser``: seed 004's trt.UffParser calls on TensorRT-RTX."""

from __future__ import annotations

import numpy as np
import pytest

from trtforge.errors import UsageError
from trtforge.tensorrt.trt import get_tensorrt

from trtforge_uff import UffInputOrder, UffParser
from trtforge_uff.format import io

from uff_models import conv_net


def _build_and_run(network, tensorrt, feeds):
    from trtforge.reference import Executor
    from trtforge.verify.snapshot import take_snapshot

    return Executor(take_snapshot(network, tensorrt)).run(feeds).numpy()


def test_nchw_registration_of_an_nhwc_graph(tmp_path):
    path = io.write(conv_net(), tmp_path / "net.uff")
    tensorrt = get_tensorrt()
    network = tensorrt.create_network()
    parser = UffParser()
    assert parser.register_input("input", (3, 8, 8))  # CHW, as UFF-era scripts registered it
    assert parser.register_output("MarkOutput_0")
    assert parser.parse(str(path), network)
    assert tuple(network.get_input(0).shape) == (1, 3, 8, 8)
    x = np.random.default_rng(0).standard_normal((1, 8, 8, 3)).astype(np.float32)
    nchw = _build_and_run(network, tensorrt, {"input": x.transpose(0, 3, 1, 2).copy()})

    network2 = tensorrt.create_network()
    parser2 = UffParser()
    parser2.register_input("input", (8, 8, 3), UffInputOrder.NHWC)
    parser2.register_output("prob")
    parser2.parse(str(path), network2)
    nhwc = _build_and_run(network2, tensorrt, {"input": x})
    np.testing.assert_allclose(nchw["prob"], nhwc["prob"], rtol=1e-6)


def test_wrong_registrations_are_explained(tmp_path):
    path = io.write(conv_net(), tmp_path / "net.uff")
    tensorrt = get_tensorrt()
    parser = UffParser()
    parser.register_input("image", (3, 8, 8))
    with pytest.raises(UsageError, match="has no Input node 'image'"):
        parser.parse(str(path), tensorrt.create_network())
    parser = UffParser()
    parser.register_input("input", (3, 9, 9))
    with pytest.raises(UsageError, match="does not fit the UFF Input shape"):
        parser.parse(str(path), tensorrt.create_network())
