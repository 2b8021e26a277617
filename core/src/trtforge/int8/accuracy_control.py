"""INT8 accuracy control shared by every route: which quantized ops to leave in float.

Why: some networks amplify a small perturbation through their depth (a random-weight
ResNet50 turns the ~1% rounding of one INT8 tensor into a visibly different output), so
all-INT8 can miss the accuracy target whatever the calibration method. Leaving the most
sensitive ops unquantized fixes that at some cost in speed (OpenVINO's accuracy-aware
quantization and ModelOpt's AutoQuantize make the same trade).

A route supplies ``score(floating) -> cosine``: the cosine similarity to FP32 of its own
simulation of the Q/DQ model with the ops in ``floating`` left in float. Each op is ranked
by the damage it does alone (the only op in INT8 — in a network that compounds errors, the
gain from leaving one op in float is lost in the others' noise); then the fewest of the
worst are returned to float, by doubling and bisection, until the target holds.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

log = logging.getLogger(__name__)

DEFAULT_MIN_COSINE = 0.99
MIN_COSINE_OPTION = "int8_min_cosine"
MAX_SAMPLES = 8


@dataclass
class AccuracyReport:
    """What accuracy control measured on the calibration samples."""

    target: float
    samples: int
    all_int8: float  # cosine with every op quantized
    final: float  # cosine with ``float_nodes`` left in float
    quantized: int = 0
    float_nodes: list[str] = field(default_factory=list)
    float_macs: float | None = None  # share of the quantizable multiply-accumulates left in float
    unit: str = "ops"  # what the route calls them ("ops" of a torch graph, ONNX "nodes")

    def describe(self) -> str:
        if not self.float_nodes:
            return (f"all {self.quantized} quantized {self.unit} in INT8: cosine {self.all_int8:.5f} "
                    f"to FP32 on {self.samples} calibration samples (target {self.target})")
        share = (f", {self.float_macs:.0%} of their multiply-accumulates" if self.float_macs is not None
                 else f" ({len(self.float_nodes) / self.quantized:.0%})")
        return (f"{len(self.float_nodes)} of {self.quantized} quantized {self.unit} kept in float{share} "
                f"(cosine to FP32 on {self.samples} calibration samples: {self.all_int8:.5f} all-INT8, "
                f"{self.final:.5f} after; target {self.target}): {', '.join(self.float_nodes[:8])}"
                + (" ..." if len(self.float_nodes) > 8 else ""))


def cosine(reference: Sequence[Any], candidate: Sequence[Any]) -> float:
    """Smallest cosine similarity over the outputs (each flattened, in float64)."""
    from trtforge.arrays import cosine_similarity

    return min([cosine_similarity(ref, got) for ref, got in zip(reference, candidate)], default=1.0)


def min_cosine_option(options: dict[str, Any]) -> float:
    """The ``int8_min_cosine`` route option (0 turns accuracy control off)."""
    from trtforge.errors import UsageError

    value = options.get(MIN_COSINE_OPTION, DEFAULT_MIN_COSINE)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{MIN_COSINE_OPTION} must be a number, got {value!r}") from None
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"{MIN_COSINE_OPTION} must be between 0 and 1, got {value}",
                         hint="0 turns accuracy control off; 0.99 is the default")
    return value


def choose_float(names: Sequence[str], score: Callable[[set[str]], float], min_cosine: float,
                 samples: int, unit: str = "ops") -> AccuracyReport:
    """The fewest of ``names`` to leave in float so that ``score`` reaches ``min_cosine``."""
    names = list(names)
    report = AccuracyReport(target=min_cosine, samples=samples, all_int8=score(set()), final=0.0,
                            quantized=len(names), unit=unit)
    report.final = report.all_int8
    if report.all_int8 >= min_cosine or not names:
        return report
    everyone = set(names)
    damage = {name: 1.0 - score(everyone - {name}) for name in names}
    ranked = sorted(names, key=lambda n: damage[n], reverse=True)
    log.info("int8 sensitivity (1 - cosine, the op alone in INT8): %s",
             ", ".join(f"{n}={damage[n]:.2e}" for n in ranked[:10]))
    results: dict[int, float] = {0: report.all_int8}

    def score_without(k: int) -> float:
        if k not in results:
            results[k] = score(set(ranked[:k]))
        return results[k]

    # The cosine rises with the number left in float: doubling, then bisection.
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
