"""Where the time goes in the onnx_trt route, and what the route costs over the raw parser.

For a torchvision ResNet50 (random weights) it times each stage of ``convert()`` from the
torch module (export, passes, parse, build), then converts the exported ONNX file twice over:
with ``trtforge.convert(path, backend="onnx_trt")`` and with the raw TensorRT parser + builder
(no trtforge), in the same process, alternating, and prints the ratio (target <= 1.1x) and
the resident memory each call adds at its peak. Also the ratio with every pass disabled, which is the
framework's own overhead (load, checks, metadata) without the graph preparation.

    .venv/bin/python benchmarks/onnx_trt_stages.py [--size 224] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

TARGET = "sm89"


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def peak_rss() -> Iterator[dict[str, int]]:
    """Sample the resident set every 10 ms while the block runs."""
    result = {"start": rss_bytes(), "peak": rss_bytes()}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            result["peak"] = max(result["peak"], rss_bytes())
            stop.wait(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        result["peak"] = max(result["peak"], rss_bytes())


def raw_parse_and_build(path: Path) -> int:
    """The baseline: TensorRT-RTX's own parser and builder, nothing else."""
    import tensorrt_rtx as trt

    logger = trt.Logger(trt.Logger.ERROR)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(path)):
        raise RuntimeError(parser.get_error(0).desc())
    config = builder.create_builder_config()
    config.num_compute_capabilities = 1
    config.set_compute_capability(trt.ComputeCapability.SM89, 0)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise RuntimeError("raw build failed")
    return len(bytes(plan))


def convert_file(path: Path, disable: list[str] | None = None) -> int:
    import trtforge

    options = {"disable_passes": disable} if disable else None
    engine = trtforge.convert(path, backend="onnx_trt", target=TARGET, cache=False, options=options)
    return len(engine.plan)


def timed(fn: Callable[[], Any]) -> tuple[float, int, Any]:
    """Seconds, the peak resident memory *added* during the call, and the call's value."""
    with peak_rss() as memory:
        start = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - start
    return seconds, memory["peak"] - memory["start"], value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch
    import torchvision

    import trtforge
    from trtforge_onnx_trt.passes import pass_names

    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    example = torch.randn(1, 3, args.size, args.size)

    print(f"ResNet50, 1x3x{args.size}x{args.size}, target {TARGET}, {os.cpu_count()} CPU(s)")
    seconds, peak, engine = timed(lambda: trtforge.convert(
        model, backend="onnx_trt", inputs=[example], target=TARGET, cache=False))
    stages = engine.metadata["build"]["stages"]
    print("\nconvert(torch module) by stage:")
    for stage in ("export", "passes", "parse", "build"):
        print(f"  {stage:<8} {stages.get(stage, 0.0):7.2f} s")
    print(f"  {'total':<8} {seconds:7.2f} s   peak RSS +{peak / 2**30:.2f} GiB   plan {len(engine.plan) / 1e6:.1f} MB")

    workdir = Path(tempfile.mkdtemp(prefix="onnx_trt_bench-"))
    onnx_path = workdir / "resnet50.onnx"
    import onnx

    torch.onnx.export(model, (example,), str(onnx_path), dynamo=True, opset_version=18,
                      input_names=["x"], output_names=["logits"])
    onnx.checker.check_model(str(onnx_path))
    size = sum(f.stat().st_size for f in workdir.iterdir())  # the .onnx and its external data
    print(f"\nsame ONNX file ({size / 1e6:.0f} MB with its weights), {args.repeats} runs each, "
          "alternating, after one warm-up of each:")
    runs: dict[str, list[tuple[float, int]]] = {"raw": [], "convert": [], "convert-no-passes": []}
    calls = {
        "raw": lambda: raw_parse_and_build(onnx_path),
        "convert": lambda: convert_file(onnx_path),
        "convert-no-passes": lambda: convert_file(onnx_path, pass_names()),
    }
    for name, fn in calls.items():
        fn()
    for _ in range(args.repeats):
        for name, fn in calls.items():
            seconds, peak, _ = timed(fn)
            runs[name].append((seconds, peak))
    median = {name: statistics.median(s for s, _ in values) for name, values in runs.items()}
    peaks = {name: max(p for _, p in values) for name, values in runs.items()}
    for name in runs:
        print(f"  {name:<18} median {median[name]:6.2f} s   peak RSS +{peaks[name] / 2**30:.2f} GiB over the run's start")
    print(f"\nratio convert / raw parser+builder: {median['convert'] / median['raw']:.2f}x (target <= 1.1x)")
    print(f"ratio with every pass disabled:     {median['convert-no-passes'] / median['raw']:.2f}x")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
