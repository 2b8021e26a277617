"""GPU report: ResNet50 through every installed route x fp32/fp16/int8 on one GPU, with baselines.

For batch 1, 64 and 256 it times each engine (CUDA events; CUDA graphs where the runtime
captures them) and the PyTorch baselines — eager FP32, eager FP16 channels-last and
``torch.compile`` FP16 — and records build time, engine size and agreement with PyTorch FP32
(max relative error, top-1 agreement on a seeded batch). The table is printed last; JSON and
Markdown are written to ``--out``. Without a GPU that can run engines it says why and exits 0.

    make bench-gpu                     # or: python benchmarks/gpu_report.py --out gpu-report
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, Callable

BATCHES = (1, 64, 256)
PRECISIONS = ("fp32", "fp16", "int8")
log = logging.getLogger("gpu_report")


def runtime_reason() -> str | None:
    from trtforge.errors import TensorRTError
    from trtforge.trt import get_tensorrt

    try:
        ok, why = get_tensorrt().can_run()
    except TensorRTError as exc:
        return exc.message
    if not ok:
        return why
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed"
    if not torch.cuda.is_available():
        return "PyTorch has no CUDA device"
    return None


def time_torch(step: Callable[[], Any], name: str, batch: int, iterations: int, warmup: int) -> dict[str, Any]:
    import torch

    from trtforge.benchmark import time_cuda

    stream = torch.cuda.Stream()
    with torch.no_grad():
        result = time_cuda(step, name=name, batch_size=batch, stream=stream, iterations=iterations,
                           warmup=warmup)
    return result.to_dict()


def baselines(model: Any, batches: tuple[int, ...], iterations: int, warmup: int) -> list[dict[str, Any]]:
    import torch

    rows = []
    fp32 = model.cuda().eval()
    fp16 = __import__("copy").deepcopy(model).cuda().half().to(memory_format=torch.channels_last).eval()
    compiled: Any = None
    compile_error = None
    try:
        compiled = torch.compile(fp16, mode="max-autotune-no-cudagraphs")
    except Exception as exc:  # torch.compile needs a working compiler toolchain
        compile_error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    for batch in batches:
        x32 = torch.randn(batch, 3, 224, 224, device="cuda")
        x16 = x32.half().to(memory_format=torch.channels_last)
        rows.append({"name": "pytorch eager fp32", "batch": batch,
                     **time_torch(lambda: fp32(x32), "eager_fp32", batch, iterations, warmup)})
        rows.append({"name": "pytorch eager fp16 channels-last", "batch": batch,
                     **time_torch(lambda: fp16(x16), "eager_fp16_cl", batch, iterations, warmup)})
        if compiled is not None:
            try:
                rows.append({"name": "torch.compile fp16", "batch": batch,
                             **time_torch(lambda: compiled(x16), "compile_fp16", batch, iterations, warmup)})
            except Exception as exc:
                compile_error = f"{type(exc).__name__}: {exc}".splitlines()[0]
                compiled = None
        if compiled is None:
            rows.append({"name": "torch.compile fp16", "batch": batch, "error": compile_error})
    return rows


def agreement(engine: Any, model: Any) -> dict[str, Any]:
    import torch

    from trtforge.checking import compare_arrays, tolerance_for

    x = torch.randn(64, 3, 224, 224, generator=torch.Generator().manual_seed(7)).cuda()
    with torch.no_grad():
        expected = model.cuda()(x).float().cpu().numpy()
    got = engine(x).float().cpu().numpy()
    metrics = compare_arrays("logits", expected, got, tolerance_for(engine.precision), classifier=True)
    return {"max_rel": metrics.max_rel, "top1": metrics.top1, "cosine": metrics.cosine,
            "passed": metrics.passed}


def engines(model: Any, batches: tuple[int, ...], iterations: int, warmup: int,
            routes: list[str]) -> list[dict[str, Any]]:
    import torch

    import trtforge
    from trtforge import InputSpec
    from trtforge.calibration import Calibration

    spec = InputSpec(None, profiles=[((b, 3, 224, 224),) * 3 for b in batches])
    calibration = Calibration(
        data=[(torch.randn(16, 3, 224, 224, generator=torch.Generator().manual_seed(100 + i)),)
              for i in range(8)])
    rows = []
    for route in routes:
        for precision in PRECISIONS:
            base = {"route": route, "precision": precision}
            start = time.perf_counter()
            try:
                engine = trtforge.convert(model.cpu(), backend=route, precision=precision, inputs=[spec],
                                          calibration=calibration if precision == "int8" else None,
                                          cache=False)
            except Exception as exc:
                rows.append({**base, "error": f"{type(exc).__name__}: {exc}".splitlines()[0]})
                continue
            info = {**base, "convert_seconds": round(time.perf_counter() - start, 2),
                    "build_seconds": engine.metadata["build"]["seconds"], "engine_mb": len(engine.plan) / 1e6}
            try:
                info["agreement"] = agreement(engine, model)
            except Exception as exc:
                info["agreement"] = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
            for batch in batches:
                for graph in (False, True):
                    try:
                        timing = engine.benchmark(batch, iterations, warmup, cuda_graph=graph)
                    except Exception as exc:
                        timing = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
                    rows.append({**info, "name": f"trt {route} {precision}", "batch": batch,
                                 "cuda_graph": graph, **timing})
    return rows


def _cell(value: Any, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def markdown(rows: list[dict[str, Any]], header: dict[str, Any]) -> str:
    lines = [f"# trtforge GPU report — {header['gpu']}, {header['tensorrt']}, torch {header['torch']}", "",
             "| what | batch | CUDA graph | img/s (median) | latency p50 ms | latency p99 ms | build s "
             "| engine MB | max rel err | top-1 agree |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        what = row.get("name") or f"trt {row.get('route')} {row.get('precision')}"
        if "error" in row:
            lines.append(f"| {what} | {row.get('batch', '')} | | failed: {row['error']} | | | | | | |")
            continue
        agree = row.get("agreement") or {}
        cells = [
            what, str(row["batch"]), "yes" if row.get("cuda_graph") else "no",
            _cell(row["fps_median"], ",.0f"), _cell(row["latency_median"] * 1e3, ".3f"),
            _cell(row["latency_p99"] * 1e3, ".3f"), _cell(row.get("build_seconds"), ".1f"),
            _cell(row.get("engine_mb"), ".1f"), _cell(agree.get("max_rel"), ".2e"),
            _cell(agree.get("top1"), ".1%"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu-report", help="folder for gpu_report.json/.md")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    reason = runtime_reason()
    if reason is not None:
        log.info("GPU report skipped: %s", reason)
        return 0

    import torch
    import torchvision

    from trtforge.atomic import atomic_write_json, atomic_write_text
    from trtforge.backends import registry
    from trtforge.gpu import probe_gpus
    from trtforge.sources import ModelSource
    from trtforge.trt import get_tensorrt

    batches = tuple(int(b) for b in args.batches.split(","))
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    probe = ModelSource(kind="torch-module", model=model, fingerprint="", name="resnet50")
    routes = [b.name for b in registry().candidates(probe)[0]]
    gpu = probe_gpus().gpus[0]
    header = {"gpu": f"{gpu.name} ({gpu.sm})", "tensorrt": get_tensorrt().facts.label,
              "torch": torch.__version__, "routes": routes, "batches": batches,
              "iterations": args.iterations, "warmup": args.warmup}
    rows = baselines(model, batches, args.iterations, args.warmup)
    rows += engines(model, batches, args.iterations, args.warmup, routes)
    out = Path(args.out)
    atomic_write_json(out / "gpu_report.json", {"header": header, "rows": rows})
    text = markdown(rows, header)
    atomic_write_text(out / "gpu_report.md", text)
    sys.stdout.write(text)
    log.info("wrote %s and %s", out / "gpu_report.json", out / "gpu_report.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
