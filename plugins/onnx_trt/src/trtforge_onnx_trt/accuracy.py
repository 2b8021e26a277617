"""INT8 accuracy control: keep the quantized nodes that hurt the output most in float.

Why: some networks amplify a small perturbation through their depth (a random-weight
ResNet50 turns the ~1% rounding of one INT8 tensor into a visibly different output), so
all-INT8 misses the accuracy target whatever the calibration method. Leaving the most
sensitive Conv/Gemm/MatMul nodes unquantized fixes that at a small cost in speed.

How: the Q/DQ model (all quantized) is run by onnxruntime next to the FP32 model on a few
calibration samples. Scoring needs one model per choice of float nodes; instead of
quantizing and loading ~50 models, every quantized node gets a switch: a boolean graph
input choosing, through ``Where``, between its dequantized inputs and the float tensors it
read before quantization. Leaving a node in float this way computes exactly what
``quantize_static(nodes_to_exclude=[node])`` builds, so one session scores every choice.
Each node is scored by the damage it does alone (the only node in INT8); the worst go back
to float, fewest first, until the target holds.
"""
from __future__ import annotations

import copy
import logging
from typing import Any, Callable, Sequence

from trtforge.int8.accuracy_control import MAX_SAMPLES, AccuracyReport, choose_float, cosine
from trtforge.models.compat import ort_session

log = logging.getLogger(__name__)

__all__ = ["MAX_SAMPLES", "choose_float_nodes", "quantized_nodes", "switchable_model"]

_SWITCH_PREFIX = "trtforge_int8_switch__"


def quantized_nodes(model: Any, op_types: Sequence[str]) -> list[str]:
    """Names of the ``op_types`` nodes of a Q/DQ model that read a dequantized input."""
    dequantized = {n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
    return [n.name for n in model.graph.node if n.op_type in op_types and set(n.input) & dequantized]


def switchable_model(quantized: Any, fp32: Any, nodes: Sequence[str],
                     followers: dict[str, str] | None = None) -> tuple[Any, dict[str, str]]:
    """The Q/DQ model with a boolean input per node in ``nodes``: true = the node reads its
    dequantized inputs, false = the float tensors (weights from the FP32 model) it had before.
    A node in ``followers`` (a residual Add -> the convolution TensorRT fuses it into) shares
    its leader's switch: its quantized input goes when the leader stays in float."""
    from onnx import TensorProto, helper

    model = copy.deepcopy(quantized)
    graph = model.graph
    original = {n.name: n for n in fp32.graph.node}
    fp32_weights = {i.name: i for i in fp32.graph.initializer}
    present = {i.name for i in graph.initializer}
    dequantized = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    wanted = set(nodes)
    switches: dict[str, str] = {}

    def switch_of(leader: str) -> str:
        if leader not in switches:
            switches[leader] = f"{_SWITCH_PREFIX}{len(switches)}"
            graph.input.append(helper.make_tensor_value_info(switches[leader], TensorProto.BOOL, []))
        return switches[leader]

    new_nodes = []
    for node in graph.node:
        leader = node.name if node.name in wanted else (followers or {}).get(node.name)
        source = original.get(node.name)
        if leader in wanted and source is not None and len(source.input) == len(node.input):
            for k, name in enumerate(node.input):
                float_name = source.input[k]
                if name not in dequantized or name == float_name:
                    continue
                if float_name in fp32_weights and float_name not in present:
                    graph.initializer.append(fp32_weights[float_name])
                    present.add(float_name)
                switch = switch_of(leader)
                chosen = f"{name}__{switch}_{node.name}"
                new_nodes.append(helper.make_node("Where", [switch, name, float_name], [chosen],
                                                  name=f"{node.name}/{switch}_{k}"))
                node.input[k] = chosen
        new_nodes.append(node)
    del graph.node[:]
    graph.node.extend(new_nodes)
    return model, switches


class _Evaluator:
    """Runs one onnxruntime session over the samples (split to the model's batch size)."""

    def __init__(self, model: Any, samples: Sequence[dict[str, Any]],
                 fit: Callable[[dict[str, Any], dict[str, Any]], list[dict[str, Any]]]) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        self.session = ort_session(model, options)
        meta = {i.name: i for i in self.session.get_inputs()}
        self.chunks = [chunk for sample in samples for chunk in fit(sample, meta)]
        self.outputs = [o.name for o in self.session.get_outputs()]

    def run(self, extra: dict[str, Any] | None = None) -> list[Any]:
        import numpy as np

        results = [self.session.run(self.outputs, {**chunk, **(extra or {})}) for chunk in self.chunks]
        return [np.concatenate([np.asarray(r[k]).reshape(-1) for r in results]) for k in range(len(self.outputs))]


def choose_float_nodes(fp32: Any, quantized: Any, nodes: Sequence[str], samples: Sequence[dict[str, Any]],
                       min_cosine: float, fit: Callable[..., list[dict[str, Any]]],
                       followers: dict[str, str] | None = None) -> AccuracyReport:
    """The fewest ``nodes`` to leave in float so the Q/DQ model reaches ``min_cosine`` to FP32."""
    import numpy as np

    count = sum(int(next(iter(s.values())).shape[0]) for s in samples)
    reference = _Evaluator(fp32, samples, fit).run()
    switchable, switches = switchable_model(quantized, fp32, nodes, followers)
    evaluator = _Evaluator(switchable, samples, fit)

    def score(floating: set[str]) -> float:
        feeds = {s: np.array(name not in floating) for name, s in switches.items()}
        return cosine(reference, evaluator.run(feeds))

    return choose_float(list(switches), score, min_cosine, count, unit="nodes")
