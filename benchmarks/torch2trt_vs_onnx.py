"""Conversion time and network size: torch2trt (capture + convert) versus onnx_trt (export + parse).

Run: ``.venv/bin/python benchmarks/torch2trt_vs_onnx.py [--size 224] [--batch 1]``. Both routes
build a plan for sm89 from the same torchvision model (random weights); the builder time is
reported separately from the route's own stages. onnx_trt is skipped with a message if that
route is not installed.
"""
from __future__ import annotations

import argparse
import logging
import time

import trtforge
from trtforge.plugin.backends import registry
from trtforge.errors import TrtforgeError

MODELS = ("resnet50", "mobilenet_v2")
ROUTES = ("torch2trt", "onnx_trt")


def measure(model_name: str, route: str, size: int, batch: int) -> dict[str, object]:
    import torch
    from torchvision import models

    model = models.get_model(model_name, weights=None).eval()
    start = time.perf_counter()
    engine = trtforge.convert(model, backend=route, inputs=[torch.randn(batch, 3, size, size)],
                              target="sm89", cache=False)
    total = time.perf_counter() - start
    stages = engine.metadata["build"]["stages"]
    return {"total_s": total, "populate_s": stages.get("populate", 0.0), "build_s": stages.get("build", 0.0),
            "layers": engine.metadata["network"]["layers"], "plan_mb": len(engine.plan) / 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    routes = registry()
    available = []
    for route in ROUTES:
        try:
            routes.require_available(route)
            available.append(route)
        except TrtforgeError as exc:
            print(f"skipping {route}: {exc.message}")
    print(f"{'model':<14}{'route':<11}{'total s':>9}{'route s':>9}{'build s':>9}{'layers':>8}{'plan MB':>9}")
    for model_name in MODELS:
        for route in available:
            try:
                r = measure(model_name, route, args.size, args.batch)
            except TrtforgeError as exc:
                print(f"{model_name:<14}{route:<11} failed: {exc.message}")
                continue
            print(f"{model_name:<14}{route:<11}{r['total_s']:>9.2f}{r['populate_s']:>9.2f}"
                  f"{r['build_s']:>9.2f}{r['layers']:>8}{r['plan_mb']:>9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
