"""``make demo`` / ``trtforge demo``: the seed documents' four models and a digits classifier
through every installed route at fp32/fp16/int8, in one A/B report.

The seed documents asked which tool chain converts which model and how fast and accurate the
result is; the demo answers that on any machine. Models come from :mod:`trtforge_zoo.models`
(random weights, small inputs, no downloads); the digits classifier is trained on
scikit-learn's bundled digits so accuracy changes are real. Without a GPU, engines are built
ahead of time for ``sm89`` and the GPU columns say why they are empty.
"""
from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

log = logging.getLogger(__name__)

MODELS = ("model1", "model2", "model3", "model4", "digits")
DEFAULT_OUT = "demo-output"
SEED_MAX_BATCH = 8
DIGITS_MAX_BATCH = 64
CALIBRATION_SAMPLES = 32
TORCH_COMPILE_MODELS = ("digits",)
MODEL_NOTES = {
    "model1": "TF1 conv net (frozen .pb)",
    "model2": "Keras ResNet50 with added shortcuts (.keras)",
    "model3": "modified TF ResNet50 with Cast/Concat/BatchNorm (SavedModel)",
    "model4": "torchvision ResNet50 with the x.view(x.size(0), -1) flatten",
    "digits": "a CNN trained on scikit-learn's digits",
}


def build_model(name: str, directory: Path) -> Any:
    """Create one zoo model (files go to ``directory``)."""
    from trtforge_zoo import models as zoo

    if name == "digits":
        return zoo.digits_classifier()
    factory = zoo.SEED_MODELS[name]
    if "directory" in factory.__code__.co_varnames:
        return factory(directory=directory / name)
    return factory()


def compare_arguments(zoo_model: Any) -> dict[str, Any]:
    """How the demo converts one zoo model: a dynamic batch profile, calibration, data."""
    import numpy as np

    from trtforge.conversion.specs import InputSpec

    example = zoo_model.example
    rest = tuple(int(d) for d in example.shape[1:])
    digits = zoo_model.extra.get("digits")
    max_batch = DIGITS_MAX_BATCH if digits is not None else SEED_MAX_BATCH
    spec = InputSpec(dtype=str(example.dtype), min=(1, *rest), opt=(1, *rest), max=(max_batch, *rest))
    arguments: dict[str, Any] = {"inputs": [spec], "reference": zoo_model.reference,
                                 "name": zoo_model.name}
    if digits is not None:
        arguments["data"] = (digits.x_test, digits.y_test)
        arguments["calibration"] = digits.x_train[:CALIBRATION_SAMPLES * 4]
    else:
        # No labelled data for the seed models (random weights): calibrate on seeded inputs
        # drawn like the example, which is what the routes' INT8 paths need to run.
        rng = np.random.default_rng(1)
        if example.dtype == np.uint8:
            calibration = rng.integers(0, 256, size=(CALIBRATION_SAMPLES, *rest), dtype=np.uint8)
        else:
            calibration = rng.standard_normal((CALIBRATION_SAMPLES, *rest)).astype(example.dtype)
        arguments["calibration"] = calibration
    return arguments


def run_demo(
    out: str | Path = DEFAULT_OUT,
    models: Sequence[str] = MODELS,
    backends: Sequence[str] | str | None = None,
    precisions: Sequence[str] | str = ("fp32", "fp16", "int8"),
    target: str | None = None,
    cache: bool = True,
    torch_compile: bool = True,
) -> tuple[Any, dict[str, Path]]:
    """Build each zoo model, compare it through every route, write the report into ``out``."""
    from trtforge.report.comparison import compare, default_target
    from trtforge.errors import UsageError
    from trtforge.progress import Stages
    from trtforge.report.table import Report

    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise UsageError(f"unknown demo model(s) {', '.join(unknown)}",
                         hint=f"pick from {', '.join(MODELS)}")
    target = default_target(target)  # sm89 only where TensorRT-RTX has no GPU to build for
    stages = Stages(prefix="demo: ")
    report = Report(title="trtforge demo: the seed's four models and a digits classifier, "
                          "every route x precision")
    started = time.perf_counter()
    out = Path(out).expanduser()
    with tempfile.TemporaryDirectory(prefix=f"trtforge-demo.p{os.getpid()}.") as workdir:
        for name in models:
            try:
                with stages.stage(f"{name}: build zoo model"):
                    zoo_model = build_model(name, Path(workdir))
            except Exception as exc:
                report.notes.append(f"{name}: the zoo could not build it "
                                    f"({type(exc).__name__}: {exc})".splitlines()[0])
                log.warning("demo: %s could not be built: %s", name, exc)
                continue
            with stages.stage(f"{name}: compare", zoo_model.description):
                result = compare(zoo_model.model, backends=backends, precisions=precisions,
                                 target=target, cache=cache, baseline_iterations=10,
                                 torch_compile=torch_compile and name in TORCH_COMPILE_MODELS,
                                 **compare_arguments(zoo_model))
            if not result.rows:
                result.notes.append(f"{name}: no installed route accepts {zoo_model.kind} models "
                                    f"(see `trtforge plugins`)")
            report.extend(result)
    seconds = time.perf_counter() - started
    report.environment["demo_seconds"] = round(seconds, 1)
    described = [f"{name} {MODEL_NOTES[name]}" for name in models if name in MODEL_NOTES]
    if described:
        report.notes.append("models: " + "; ".join(described) + " (random weights and small "
                            "inputs except digits: timings compare routes, not published results)")
    report.notes.append("native baselines run on this machine's CPU and are labelled 'cpu'"
                        + ("; torch.compile is timed for the digits model only (compiling a "
                           "ResNet50 on a CPU takes minutes; `trtforge compare --torch-compile`)"
                           if torch_compile and "digits" in models else ""))
    written = report.write(out)
    log.info("demo finished in %.0f s", seconds)
    return report, written
