"""INT8 Quantize/Dequantize insertion (symmetric: scale = amax / 127, zero point 0).

The scales come from :mod:`..accuracy` (``activation_scale``, ``weight_scales``), the same
functions its PyTorch simulation rounds with, so what accuracy control measured is what the
network computes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from trtforge_torch2trt.accuracy import ResidualAdd, activation_scale, weight_scales
from trtforge_torch2trt.network import NetworkContext


@dataclass
class Quantizer:
    """Per-tensor activation ranges by FX node name; Q/DQ pairs are shared per tensor.
    ``float_nodes``: FX nodes accuracy control keeps in float (converters ask
    :meth:`NetworkContext.quantizing`, which is None for them). ``residuals``: Adds whose
    residual input gets Q/DQ while their leader convolution is INT8."""

    ranges: dict[str, float]
    float_nodes: frozenset[str] = frozenset()
    residuals: dict[str, ResidualAdd] = field(default_factory=dict)
    _done: dict[str, Any] = field(default_factory=dict)
    inserted: int = 0
    residuals_quantized: int = 0

    @classmethod
    def for_graph(cls, captured: Any, ranges: dict[str, float], unquantized: Iterable[str] = (),
                  residuals: Sequence[ResidualAdd] | None = None) -> "Quantizer":
        """The quantizer of ``captured``'s network with its residual Adds (found here unless the
        INT8 plan already has them)."""
        from trtforge_torch2trt.accuracy import quantized_ops, residual_adds

        if residuals is None:
            residuals = residual_adds(captured.graph, quantized_ops(captured.graph))
        return cls(ranges, frozenset(unquantized), {r.node: r for r in residuals})

    def residual_inputs(self, net: NetworkContext, node: str, inputs: Sequence[Any]) -> list[Any]:
        """An Add's inputs with its residual Q/DQ'd (as is when ``node`` is no residual Add
        or its convolution stays in float)."""
        values = list(inputs)
        residual = self.residuals.get(node)
        if residual is None or residual.leader in self.float_nodes or residual.key not in self.ranges:
            return values
        values[residual.position] = self.activation(net, values[residual.position], residual.key)
        self.residuals_quantized += 1
        return values

    def activation(self, net: NetworkContext, x: Any, key: str | None) -> Any:
        """Q/DQ ``x`` (the value of FX node ``key``) if a calibrated range exists for it."""
        if key is None or key not in self.ranges or not net.is_itensor(x) or not net.is_float(x):
            return x
        if x.name in self._done:
            return self._done[x.name]
        out = net.qdq(x, activation_scale(self.ranges[key]), None, x.name)
        self._done[x.name] = out
        self.inserted += 1
        return out

    def weight(self, net: NetworkContext, weight: Any, axis: int, name: str) -> Any:
        """A constant weight tensor quantized per channel along ``axis`` (Q/DQ'd ITensor)."""
        import torch

        w = weight.detach().to(torch.float32)
        tensor = net.constant(w, f"{name}/weight", "float32")
        return net.qdq(tensor, weight_scales(w, axis).numpy(), axis, f"{name}/weight")
