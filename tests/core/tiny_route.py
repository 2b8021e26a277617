"""A tiny real route for core tests: fills a TensorRT network with a conv + ReLU.

It accepts a ``TinyModel`` (a few numpy weights), so core's convert/cache/engine machinery can
be tested against the real TensorRT-RTX builder without any framework.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trtforge import Availability, Backend, ModelFormat, hookimpl
from trtforge.errors import ConversionError


@dataclass
class TinyModel:
    channels: int = 4
    seed: int = 0
    fail: bool = False
    weights: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.weights = rng.standard_normal((self.channels, 3, 3, 3)).astype(np.float32)


def _fingerprint(model: TinyModel) -> str:
    return hashlib.sha256(model.weights.tobytes() + bytes([model.fail])).hexdigest()


class TinyBackend(Backend):
    name = "tiny"
    priority = 10
    description = "conv+relu test route"

    def __init__(self, name: str = "tiny", priority: int = 10, always_fail: bool = False) -> None:
        self.name = name  # type: ignore[misc]
        self.priority = priority  # type: ignore[misc]
        self.always_fail = always_fail
        self.populated = 0

    def is_available(self) -> Availability:
        return Availability(True)

    def accepts(self, source: Any) -> bool:
        return source.kind == "tiny-model"

    def populate(self, network: Any, source: Any, spec: Any, ctx: Any) -> None:
        self.populated += 1
        model: TinyModel = source.model
        if model.fail or self.always_fail:
            raise ConversionError(f"{self.name} refuses this model", route=self.name,
                                  unsupported=["tiny.Fail x1"])
        trt = ctx.tensorrt.module
        given = spec.input_named("x", 0)
        shape = given.network_shape() if given else (1, 3, 8, 8)
        x = network.add_input("x", trt.float32, shape)
        conv = network.add_convolution_nd(
            x, model.channels, (3, 3), trt.Weights(model.weights),
            trt.Weights(np.zeros(model.channels, np.float32)))
        conv.padding_nd = (1, 1)
        relu = network.add_activation(conv.get_output(0), trt.ActivationType.RELU)
        relu.get_output(0).name = "y"
        network.mark_output(relu.get_output(0))
        ctx.note("tiny route filled 2 layers")


class TinyPlugin:
    """In-process plugin object registering the tiny format and backend(s)."""

    def __init__(self, *backends: TinyBackend) -> None:
        self.backends = backends or (TinyBackend(),)

    @hookimpl
    def register_model_formats(self, register: Any) -> None:
        register(ModelFormat("tiny-model", "test model", lambda o: isinstance(o, TinyModel),
                             _fingerprint))

    @hookimpl
    def register_backends(self, register: Any) -> None:
        for backend in self.backends:
            register(backend)
