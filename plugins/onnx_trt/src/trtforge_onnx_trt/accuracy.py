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
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

log = logging.getLogger(__name__)

DEFAULT_MIN_COSINE = 0.99
MAX_SAMPLES = 8
_SWITCH_PREFIX = "trtforge_int8_switch__"


@dataclass
class AccuracyReport:
    """What accuracy control measured on the calibration samples."""

    target: float
    samples: int
    all_int8: float  # cosine with every node quantized
    final: float  # cosine with ``float_nodes`` left in float
    quantized: int = 0
    float_nodes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if not self.float_nodes:
            return (f"all {self.quantized} quantized nodes in INT8: cosine {self.all_int8:.5f} to FP32 "
                    f"on {self.samples} calibration samples (target {self.target})")
        share = len(self.float_nodes) / self.quantized if self.quantized else 0.0
        return (f"{len(self.float_nodes)} of {self.quantized} quantized nodes kept in float ({share:.0%}) "
                f"(cosine to FP32 on {self.samples} calibration samples: {self.all_int8:.5f} all-INT8, "
                f"{self.final:.5f} after; target {self.target}): {', '.join(self.float_nodes[:8])}"
                + (" ..." if len(self.float_nodes) > 8 else ""))


def cosine(reference: Sequence[Any], candidate: Sequence[Any]) -> float:
    """Smallest cosine similarity over the outputs (each flattened over all samples, float64)."""
    import numpy as np

    worst = 1.0
    for ref, got in zip(reference, candidate):
        r = np.asarray(ref, np.float64).ravel()
        g = np.asarray(got, np.float64).ravel()
        denominator = float(np.linalg.norm(r) * np.linalg.norm(g))
        value = float(np.dot(r, g)) / denominator if denominator > 0 else float(np.array_equal(r, g))
        worst = min(worst, value)
    return worst


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
        self.session = ort.InferenceSession(model.SerializeToString(), options,
                                            providers=["CPUExecutionProvider"])
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

    names = list(switches)
    report = AccuracyReport(target=min_cosine, samples=count, all_int8=score(set()), final=0.0,
                            quantized=len(names))
    report.final = report.all_int8
    if report.all_int8 >= min_cosine or not names:
        return report
    # Damage of each node alone (the only one in INT8): in a network that compounds errors,
    # the cosine gained by leaving one node in float is lost in the others' noise; the
    # damage alone ranks them cleanly.
    everyone = set(names)
    damage = {name: 1.0 - score(everyone - {name}) for name in names}
    ranked = sorted(names, key=lambda n: damage[n], reverse=True)
    log.info("int8 sensitivity (1 - cosine, the node alone in INT8): %s",
             ", ".join(f"{n}={damage[n]:.2e}" for n in ranked[:10]))
    results: dict[int, float] = {0: report.all_int8}

    def score_without(k: int) -> float:
        if k not in results:
            results[k] = score(set(ranked[:k]))
        return results[k]

    # The fewest of the worst to leave in float: doubling, then bisection (the cosine rises
    # with the number left in float).
    low, high = 0, 1
    while high < len(ranked) and score_without(high) < min_cosine:
        low, high = high, min(2 * high, len(ranked))
    while high - low > 1:
        middle = (low + high) // 2
        if score_without(middle) >= min_cosine:
            high = middle
        else:
            low = middle
    report.float_nodes = ranked[:high]
    report.final = score_without(high)
    return report
