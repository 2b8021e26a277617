"""GPU report: ResNet50 through every installed route x fp32/fp16/int8 on one GPU, with baselines.

One run measures, on the same GPU and in one process: each engine built by trtforge (build
time, size, agreement with PyTorch FP32 on a seeded batch, throughput/latency at batch 1 and at
large batches, with and without CUDA graphs), the same plan driven by a minimal raw TensorRT
loop, PyTorch eager FP32 / FP16 channels-last, ``torch.compile`` FP16 (``max-autotune-no-cudagraphs``
at large batches, ``reduce-overhead`` — CUDA graphs — at batch 1, the fair peer of our CUDA-graph
row), and a rebuild with the timing cache. It prints the ratios the speed targets are stated in
(README, issue "Real TensorRT on a real GPU") and says by how much a target is missed.

Engines are built with two optimization profiles: batch 1 exactly (latency) and
``min 2, opt 256, max 256`` (throughput; ``TRTFORGE_BENCH_PROFILE=min,opt,max`` changes it and
``TRTFORGE_BENCH_LATENCY_PROFILE=0`` drops the batch-1 one). The opt shape decides the tactics:
an opt of 512 gave fp16 41.6k img/s at bs256 where 256 gave 40.7k, but a build with profiles 1 and
2/512/1024 took over 4 minutes on the H200 for fp16 alone (2026-12-01), against 104 s for one
1/256/256 profile; the default keeps the whole report inside a device session.

Every finished unit (baselines, one route x precision) is written to ``--out`` at once, so a run
cut short (a 10-minute device call) resumes with ``--resume`` where it stopped; ``--deadline``
stops starting new units after that many seconds. Without a GPU that can run engines it says
why and exits 0.

    make bench-gpu                     # or: python benchmarks/gpu_report.py --out gpu-report
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

PRECISIONS = ("fp32", "fp16", "int8")
LATENCY_BATCH = 1
THROUGHPUT = tuple(int(v) for v in os.environ.get("TRTFORGE_BENCH_PROFILE", "2,256,256").split(","))
THROUGHPUT_BATCHES = tuple(b for b in (256, 1024) if b <= THROUGHPUT[2])
LATENCY_PROFILE = os.environ.get("TRTFORGE_BENCH_LATENCY_PROFILE", "1") != "0"
MLPERF_H200_OFFLINE = 94_620          # img/s, ResNet50 INT8, MLPerf Inference (TensorRT 10.2)
log = logging.getLogger("gpu_report")


def runtime_reason() -> str | None:
    from trtforge.errors import TensorRTError
    from trtforge.tensorrt.trt import get_tensorrt

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


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:400]


def time_torch(step: Callable[[], Any], name: str, batch: int, iterations: int, warmup: int) -> dict[str, Any]:
    import torch

    from trtforge.report.benchmark import time_cuda

    stream = torch.cuda.Stream()
    with torch.no_grad():
        result = time_cuda(step, name=name, batch_size=batch, stream=stream, iterations=iterations,
                           warmup=warmup)
    return result.to_dict()


# --- baselines ------------------------------------------------------------------------------
def baselines(model: Any, iterations: int, warmup: int) -> list[dict[str, Any]]:
    import copy

    import torch

    rows: list[dict[str, Any]] = []
    fp32 = model.cuda().eval()
    fp16 = copy.deepcopy(model).cuda().half().to(memory_format=torch.channels_last).eval()
    batches = (LATENCY_BATCH, *THROUGHPUT_BATCHES[:1])
    for batch in batches:
        x32 = torch.randn(batch, 3, 224, 224, device="cuda")
        x16 = x32.half().to(memory_format=torch.channels_last)
        rows.append({**time_torch(lambda: fp32(x32), "eager_fp32", batch, iterations, warmup),
                     "name": "pytorch eager fp32", "batch": batch})
        rows.append({**time_torch(lambda: fp16(x16), "eager_fp16_cl", batch, iterations, warmup),
                     "name": "pytorch eager fp16 channels-last", "batch": batch})
    for mode, batch in (("max-autotune-no-cudagraphs", THROUGHPUT_BATCHES[0]), ("reduce-overhead", LATENCY_BATCH)):
        name = f"torch.compile fp16 {mode}"
        start = time.perf_counter()
        try:
            torch._dynamo.reset()
            compiled = torch.compile(fp16, mode=mode)
            x16 = torch.randn(batch, 3, 224, 224, device="cuda").half().to(memory_format=torch.channels_last)
            with torch.no_grad():
                for _ in range(3):  # compile, then warm up (reduce-overhead records its graph here)
                    compiled(x16)
            torch.cuda.synchronize()
            compile_s = time.perf_counter() - start
            rows.append({**time_torch(lambda: compiled(x16), f"compile_{mode}", batch, iterations, warmup),
                         "name": name, "batch": batch, "compile_seconds": round(compile_s, 1),
                         "cuda_graph": mode == "reduce-overhead"})
        except Exception as exc:  # torch.compile needs a working compiler toolchain
            rows.append({"name": name, "batch": batch, "error": _error(exc)})
        log.info("%s: %.0f s", name, time.perf_counter() - start)
    return rows


# --- the same plan, a minimal raw TensorRT loop ------------------------------------------------
def raw_loop(plan: bytes, batch: int, iterations: int, warmup: int) -> dict[str, Any]:
    """Time ``plan`` with nothing but TensorRT's own API and torch buffers: the floor any
    runtime on top of it can reach."""
    import torch

    from trtforge.tensorrt.trt import get_tensorrt

    adapter = get_tensorrt()
    trt = adapter.module
    runtime = trt.Runtime(adapter.trt_logger)
    engine = runtime.deserialize_cuda_engine(plan)
    context = engine.create_execution_context()
    stream = torch.cuda.Stream()
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
    profile = next(k for k in range(engine.num_optimization_profiles)
                   if all(engine.get_tensor_profile_shape(n, k)[0][0] <= batch
                          <= engine.get_tensor_profile_shape(n, k)[2][0] for n in inputs))
    context.set_optimization_profile_async(profile, stream.cuda_stream)
    buffers = []
    for n in inputs:
        shape = (batch, *tuple(engine.get_tensor_shape(n))[1:])
        context.set_input_shape(n, shape)
    for n in names:
        shape = tuple(context.get_tensor_shape(n))
        dtype = getattr(torch, adapter.dtype_name(engine.get_tensor_dtype(n)))
        buf = torch.randn(shape, device="cuda").to(dtype) if dtype.is_floating_point else torch.zeros(
            shape, dtype=dtype, device="cuda")
        buffers.append(buf)
        context.set_tensor_address(n, buf.data_ptr())
    handle = stream.cuda_stream
    for _ in range(warmup):
        context.execute_async_v3(handle)
    stream.synchronize()
    events = []
    with torch.cuda.stream(stream):
        for _ in range(iterations):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record(stream)
            context.execute_async_v3(handle)
            end.record(stream)
            events.append((start, end))
    stream.synchronize()
    from trtforge.report.benchmark import summarize

    times = [s.elapsed_time(e) / 1000.0 for s, e in events]
    del context, engine, runtime, buffers
    return summarize(times, batch)


# --- engines -----------------------------------------------------------------------------------
def agreement(engine: Any, model: Any) -> dict[str, Any]:
    import torch

    from trtforge.verify.checking import compare_arrays, tolerance_for

    x = torch.randn(64, 3, 224, 224, generator=torch.Generator().manual_seed(7)).cuda()
    backends = torch.backends
    saved = (backends.cudnn.allow_tf32, backends.cuda.matmul.allow_tf32)
    backends.cudnn.allow_tf32 = backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.no_grad():
            expected = model.cuda()(x).float().cpu().numpy()
    finally:
        backends.cudnn.allow_tf32, backends.cuda.matmul.allow_tf32 = saved
    got = engine(x).float().cpu().numpy()
    metrics = compare_arrays("logits", expected, got, tolerance_for(engine.precision), classifier=True)
    return {"max_rel": metrics.max_rel, "top1": metrics.top1, "cosine": metrics.cosine,
            "passed": metrics.passed}


def _spec(precision: str) -> Any:
    """Two profiles (latency, throughput); fp32, which no target is about, gets the throughput
    one only (from batch 1), which halves its build."""
    from trtforge import InputSpec

    lo, opt, hi = THROUGHPUT
    throughput = ((lo, 3, 224, 224), (opt, 3, 224, 224), (hi, 3, 224, 224))
    if precision == "fp32" or not LATENCY_PROFILE:
        return InputSpec(None, profiles=[((1, 3, 224, 224), throughput[1], throughput[2])])
    return InputSpec(None, profiles=[((LATENCY_BATCH, 3, 224, 224),) * 3, throughput])


def _calibration() -> Any:
    import torch

    from trtforge.int8.calibration import Calibration

    return Calibration(data=[(torch.randn(16, 3, 224, 224, generator=torch.Generator().manual_seed(100 + i)),)
                             for i in range(8)])


def _convert(model: Any, route: str, precision: str, timing_cache: Path, spec: Any = None) -> Any:
    """The report's conversion: its profiles, calibration, no engine cache, TF32 off for fp32."""
    import trtforge

    return trtforge.convert(model.cpu(), backend=route, precision=precision,
                            inputs=[spec or _spec(precision)],
                            calibration=_calibration() if precision == "int8" else None,
                            cache=False, timing_cache=timing_cache, tf32=precision != "fp32")


def engine_unit(model: Any, route: str, precision: str, iterations: int, warmup: int,
                timing_cache: Path, save_to: Path | None = None) -> list[dict[str, Any]]:
    """Build, check and time one route x precision (plus the raw loop on the same plan)."""
    base = {"route": route, "precision": precision}
    cache_bytes = timing_cache.stat().st_size if timing_cache.is_file() else 0
    start = time.perf_counter()
    try:
        engine = _convert(model, route, precision, timing_cache)
    except Exception as exc:
        return [{**base, "name": f"trt {route} {precision}", "error": _error(exc)}]
    info = {**base, "convert_seconds": round(time.perf_counter() - start, 2),
            "build_seconds": engine.metadata["build"]["seconds"], "engine_mb": round(len(engine.plan) / 1e6, 1),
            "timing_cache_bytes_before": cache_bytes}
    try:
        info["agreement"] = agreement(engine, model)
    except Exception as exc:
        info["agreement"] = {"error": _error(exc)}
    rows = _timed(engine, {**info, "name": f"trt {route} {precision}"}, (LATENCY_BATCH, *THROUGHPUT_BATCHES),
                  iterations, warmup)
    for batch in (LATENCY_BATCH, THROUGHPUT_BATCHES[0]):
        try:
            raw = raw_loop(engine.plan, batch, iterations, warmup)
        except Exception as exc:
            raw = {"error": _error(exc)}
        rows.append({**base, **raw, "name": f"raw TensorRT loop, {route} {precision} plan", "batch": batch,
                     "cuda_graph": False, "raw_loop": True})
    if save_to is not None:  # for `trtforge profile` afterwards
        engine.save(save_to / f"resnet50_{route}_{precision}.engine", snapshot=True)
    engine.extras.clear()  # free the runners (device memory) before the next engine
    return rows


def rebuild_unit(model: Any, route: str, precision: str, out: Path) -> dict[str, Any]:
    """Build once with an empty timing cache, then the same conversion again with the cache the
    first build wrote: what a user's rebuild after a small change costs. Self-contained, so a
    later session can measure it without the first run's cache file."""
    name = f"rebuild {route} {precision} with timing cache"
    cache = out / f"rebuild-{route}-{precision}.timing-cache"
    cache.unlink(missing_ok=True)
    seconds = []
    for _ in range(2):
        try:
            engine = _convert(model, route, precision, cache)
        except Exception as exc:
            return {"name": name, "error": _error(exc)}
        seconds.append(float(engine.metadata["build"]["seconds"]))
        engine.extras.clear()
    return {"name": name, "route": route, "precision": precision, "first_build_seconds": seconds[0],
            "build_seconds": seconds[1], "ratio": seconds[1] / seconds[0] if seconds[0] else None,
            "timing_cache_bytes": cache.stat().st_size if cache.is_file() else 0}


def latency_unit(model: Any, route: str, iterations: int, warmup: int,
                 timing_cache: Path) -> list[dict[str, Any]]:
    """fp16 built for batch 1 alone (one profile 1/1/1): the engine a latency-bound service
    ships, timed at batch 1 with and without a CUDA graph."""
    from trtforge import InputSpec

    name = f"trt {route} fp16 (batch-1 profile)"
    base = {"route": route, "precision": "fp16", "name": name, "batch": LATENCY_BATCH}
    try:
        engine = _convert(model, route, "fp16", timing_cache,
                          InputSpec(None, profiles=[((LATENCY_BATCH, 3, 224, 224),) * 3]))
    except Exception as exc:
        return [{**base, "error": _error(exc)}]
    info = {**base, "build_seconds": engine.metadata["build"]["seconds"],
            "engine_mb": round(len(engine.plan) / 1e6, 1)}
    rows = _timed(engine, info, (LATENCY_BATCH,), iterations, warmup)
    engine.extras.clear()
    return rows


def _timed(engine: Any, info: dict[str, Any], batches: tuple[int, ...], iterations: int,
           warmup: int) -> list[dict[str, Any]]:
    """One row per batch x (without, with) CUDA graph: ``info`` plus the timing or its error."""
    rows = []
    for batch in batches:
        for graph in (False, True):
            try:
                timing = engine.benchmark(batch, iterations, warmup, cuda_graph=graph)
            except Exception as exc:
                timing = {"error": _error(exc)}
            rows.append({**info, **timing, "batch": batch, "cuda_graph": graph})
    return rows


# --- ratios and targets ------------------------------------------------------------------------
def _fps(rows: list[dict[str, Any]], name: str, batch: int, graph: bool | None = None) -> float | None:
    for row in rows:
        if row.get("name") == name and row.get("batch") == batch and "fps_median" in row and (
                graph is None or bool(row.get("cuda_graph")) == graph):
            return float(row["fps_median"])
    return None


def _latency(rows: list[dict[str, Any]], name: str, batch: int, graph: bool) -> float | None:
    for row in rows:
        if (row.get("name") == name and row.get("batch") == batch and "latency_median" in row
                and bool(row.get("cuda_graph")) == graph):
            return float(row["latency_median"])
    return None


def _fp16_batch1(rows: list[dict[str, Any]], route: str, graph: bool) -> float | None:
    """The route's best fp16 batch-1 latency: its throughput engine or its batch-1 engine."""
    found = [_latency(rows, f"trt {route} fp16{kind}", 1, graph) for kind in ("", " (batch-1 profile)")]
    return min(filter(None, found), default=None)


def targets(rows: list[dict[str, Any]], routes: list[str]) -> list[dict[str, Any]]:
    """Each speed target of the issue as (what, measured, target, met, by how much)."""
    out: list[dict[str, Any]] = []

    def add(what: str, value: float | None, goal: float, higher: bool = True, unit: str = "x") -> None:
        if value is None:
            out.append({"what": what, "measured": None, "target": goal, "met": None, "unit": unit,
                        "higher_is_better": higher})
            return
        met = value >= goal if higher else value <= goal
        miss = (goal / value - 1) if higher else (value / goal - 1)
        out.append({"what": what, "measured": value, "target": goal, "met": met, "unit": unit,
                    "missed_by": None if met else miss, "higher_is_better": higher})

    big = THROUGHPUT_BATCHES[0]
    compile_big = _fps(rows, "torch.compile fp16 max-autotune-no-cudagraphs", big)
    compile_bs1 = next((float(r["latency_median"]) for r in rows
                        if r.get("name") == "torch.compile fp16 reduce-overhead" and "latency_median" in r), None)
    for route in routes:
        for precision in PRECISIONS:
            name = f"trt {route} {precision}"
            ours, raw = _fps(rows, name, big, False), _fps(rows, f"raw TensorRT loop, {route} {precision} plan", big)
            add(f"{name} bs{big} vs raw TensorRT loop on the same plan",
                ours / raw if ours and raw else None, 0.98)
        fp16 = max(filter(None, [_fps(rows, f"trt {route} fp16", big, g) for g in (False, True)]), default=None)
        add(f"trt {route} fp16 bs{big} vs torch.compile fp16 (max-autotune-no-cudagraphs)",
            fp16 / compile_big if fp16 and compile_big else None, 1.6)
        int8 = max(filter(None, [_fps(rows, f"trt {route} int8", big, g) for g in (False, True)]), default=None)
        add(f"trt {route} int8 vs fp16 at bs{big}", int8 / fp16 if int8 and fp16 else None, 1.8)
        best = max(filter(None, [_fps(rows, f"trt {route} int8", b, g) for b in THROUGHPUT_BATCHES
                                 for g in (False, True)]), default=None)
        add(f"trt {route} int8 at its best batch (img/s; 90% of MLPerf H200 offline {MLPERF_H200_OFFLINE:,})",
            best, 0.9 * MLPERF_H200_OFFLINE, unit="img/s")
        agree = next((r.get("agreement") for r in rows if r.get("name") == f"trt {route} int8" and r.get("agreement")), {})
        add(f"trt {route} int8 top-1 agreement with PyTorch FP32", (agree or {}).get("top1"), 0.99, unit="")
        bs1 = _fp16_batch1(rows, route, True)
        add(f"trt {route} fp16 bs1 with CUDA graph, latency (ms)", bs1 * 1e3 if bs1 else None, 0.35,
            higher=False, unit="ms")
        add(f"trt {route} fp16 bs1 CUDA graph vs torch.compile reduce-overhead",
            compile_bs1 / bs1 if bs1 and compile_bs1 else None, 2.3)
        plain = _fp16_batch1(rows, route, False)
        if plain and bs1:
            out.append({"what": f"trt {route} fp16 bs1: CUDA graph vs none (latency ratio)",
                        "measured": plain / bs1, "target": None, "met": None, "unit": "x"})
    if len(routes) >= 2:
        first, second = routes[0], routes[1]
        for precision in PRECISIONS:
            a = _fps(rows, f"trt {first} {precision}", big, False)
            b = _fps(rows, f"trt {second} {precision}", big, False)
            add(f"{second} vs {first} {precision} bs{big} (within 5%)", b / a if a and b else None, 0.95)
    for row in rows:
        if row.get("name", "").startswith("rebuild") and row.get("ratio") is not None:
            add(f"{row['name']}: build time vs first build", row["ratio"], 0.25, higher=False)
    return out


# --- output ------------------------------------------------------------------------------------
def _cell(value: Any, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def markdown(rows: list[dict[str, Any]], header: dict[str, Any], goals: list[dict[str, Any]]) -> str:
    lines = [f"# trtforge GPU report — {header['gpu']}, {header['tensorrt']}, torch {header['torch']}", "",
             f"{header['date']}, commit {header['commit']}; ResNet50 (torchvision, random weights, seed 0); "
             f"{header['iterations']} iterations after {header['warmup']} warm-up, CUDA events, median; "
             f"{_profiles_text(header)}", "",
             *([f"Units kept from earlier runs (not measured again): "
                + "; ".join(f"{k} ({v})" for k, v in sorted(header["kept"].items())), ""]
               if header.get("kept") else []),
             "## Targets", "", "| target | measured | goal | met | missed by |", "|---|---|---|---|---|"]
    for g in goals:
        unit = g.get("unit") or ""
        fmt = ",.0f" if unit == "img/s" else ".3f"
        measured = "not measured" if g["measured"] is None else f"{format(g['measured'], fmt)} {unit}".strip()
        goal = "" if g.get("target") is None else (
            f"{'≥' if g.get('higher_is_better', True) else '≤'} {format(g['target'], fmt)} {unit}".strip())
        met = {True: "yes", False: "**no**", None: ""}[g.get("met")]
        missed = "" if not g.get("missed_by") else f"{g['missed_by']:.0%}"
        lines.append(f"| {g['what']} | {measured} | {goal} | {met} | {missed} |")
    lines += ["", "## Measurements", "",
              "| what | batch | CUDA graph | img/s (median) | latency p50 ms | latency p99 ms | build s "
              "| engine MB | max rel err | top-1 agree |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        what = row.get("name") or f"trt {row.get('route')} {row.get('precision')}"
        if "error" in row:
            lines.append(f"| {what} | {row.get('batch', '')} | | failed: {row['error']} | | | | | | |")
            continue
        if "fps_median" not in row:
            if "ratio" in row:
                lines.append(f"| {what} | | | | | | {row['build_seconds']:.1f} (first {row['first_build_seconds']:.1f}) | | | |")
            continue
        agree = row.get("agreement") or {}
        build = row.get("build_seconds") if row.get("build_seconds") is not None else row.get("compile_seconds")
        cells = [
            what, str(row["batch"]), "yes" if row.get("cuda_graph") else "no",
            _cell(row["fps_median"], ",.0f"), _cell(row["latency_median"] * 1e3, ".3f"),
            _cell(row["latency_p99"] * 1e3, ".3f"), _cell(build, ".1f"),
            _cell(row.get("engine_mb"), ".1f"), _cell(agree.get("max_rel"), ".2e"),
            _cell(agree.get("top1"), ".1%"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _normalize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the first H200 run (2026-12-01), whose engine rows took the benchmark's own
    name: named again from their route and precision."""
    for row in rows:
        if row.get("route") and row.get("precision") and not row.get("raw_loop") and (
                str(row.get("name", "")).startswith("trt_")):
            row["name"] = f"trt {row['route']} {row['precision']}"
    return rows


def render(source: Path, out: Path) -> int:
    from trtforge.atomic import atomic_write_json, atomic_write_text

    state = json.loads(source.read_text())
    rows = _normalize([row for _, rows_ in sorted(state["units"].items()) for row in rows_])
    routes = list(state["header"].get("routes") or [])
    state["targets"] = targets(rows, routes)
    atomic_write_json(out / "gpu_report.json", state)
    text = markdown(rows, state["header"], state["targets"])
    atomic_write_text(out / "gpu_report.md", text)
    sys.stdout.write(text)
    return 0


def _profiles_text(header: dict[str, Any]) -> str:
    profiles = header.get("profiles") or {}
    lo, opt, hi = profiles.get("throughput") or THROUGHPUT
    latency = profiles.get("latency", LATENCY_BATCH)
    both = (f"profiles: batch {latency} (latency) and min/opt/max {lo}/{opt}/{hi} (throughput)"
            if latency else f"one profile min/opt/max {lo}/{opt}/{hi} (no separate batch-1 profile)")
    return (f"{both}; fp32 with one profile from batch 1 and TF32 off, compared with PyTorch FP32 "
            f"without TF32. {header.get('note', '')}".strip())


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu-report", help="folder for gpu_report.json/.md")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--routes", default="", help="comma-separated routes (default: all that take torch)")
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--units", default="engines,rebuild,baselines,latency",
                        help="what to run: engines (route x precision), rebuild (timing cache), baselines, "
                        "latency (fp16 built for batch 1 alone, each route)")
    parser.add_argument("--rebuild-precision", default="fp32",
                        help="precision of the timing-cache rebuild unit (fp32 builds fastest)")
    parser.add_argument("--save-engines", default="", help="folder to save the engines in")
    parser.add_argument("--resume", action="store_true", help="keep the units already in --out")
    parser.add_argument("--deadline", type=float, default=0, help="start no new unit after this many seconds")
    parser.add_argument("--render", metavar="JSON", help="only write the Markdown (and targets) of an "
                        "earlier run's gpu_report.json into --out; needs no GPU")
    args = parser.parse_args(argv)
    if args.render:
        return render(Path(args.render), Path(args.out))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    reason = runtime_reason()
    if reason is not None:
        log.info("GPU report skipped: %s", reason)
        return 0
    started = time.perf_counter()

    import torch
    import torchvision

    from trtforge.atomic import atomic_write_json, atomic_write_text
    from trtforge.plugin.backends import registry
    from trtforge.tensorrt.gpu import probe_gpus
    from trtforge.models.sources import ModelSource
    from trtforge.tensorrt.trt import get_tensorrt

    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    probe = ModelSource(kind="torch-module", model=model, fingerprint="", name="resnet50")
    routes = [r for r in args.routes.split(",") if r] or [b.name for b in registry().candidates(probe)[0]]
    precisions = [p for p in args.precisions.split(",") if p]
    gpu = probe_gpus().gpus[0]
    out = Path(args.out)
    state_path = out / "gpu_report.json"
    state: dict[str, Any] = {"units": {}}
    if args.resume and state_path.is_file():
        state = json.loads(state_path.read_text())
        if state.get("header"):  # the units kept were measured under it
            state.setdefault("earlier_headers", []).append(state["header"])
    state["header"] = {"gpu": f"{gpu.name} ({gpu.sm})", "tensorrt": get_tensorrt().facts.label,
                       "torch": torch.__version__, "routes": routes, "iterations": args.iterations,
                       "warmup": args.warmup, "commit": _commit(),
                       "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                       "profiles": {"latency": LATENCY_BATCH if LATENCY_PROFILE else None,
                                    "throughput": list(THROUGHPUT)}}
    timing_cache = out / "resnet50.timing-cache"
    units: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = []
    # fp16 first: the longest build, done while the shared timing cache is empty.
    order = sorted(precisions, key=lambda p: (p != "fp16", PRECISIONS.index(p) if p in PRECISIONS else 9))
    kinds = {k for k in args.units.split(",") if k}
    save_to = Path(args.save_engines) if args.save_engines else None
    for route in routes if "engines" in kinds else ():
        for precision in order:
            units.append((f"{route}/{precision}", lambda r=route, p=precision: engine_unit(
                model, r, p, args.iterations, args.warmup, timing_cache, save_to)))

    if routes and "rebuild" in kinds:
        units.append(("rebuild", lambda: [rebuild_unit(model, routes[0], args.rebuild_precision, out)]))
    if "baselines" in kinds:
        units.append(("baselines", lambda: baselines(model, args.iterations, args.warmup)))
    for route in routes if "latency" in kinds else ():
        units.append((f"latency/{route}", lambda r=route: latency_unit(
            model, r, args.iterations, args.warmup, timing_cache)))

    def save() -> list[dict[str, Any]]:
        rows = [row for _, rows_ in sorted(state["units"].items()) for row in rows_]
        goals = targets(rows, routes)
        state["targets"] = goals
        atomic_write_json(state_path, state)
        text = markdown(rows, state["header"], goals)
        atomic_write_text(out / "gpu_report.md", text)
        return goals

    earlier = (state.get("earlier_headers") or [{}])[-1]
    for key, run in units:
        if key in state["units"]:
            log.info("%s: kept from the earlier run", key)
            if key in earlier.get("kept", {}):  # kept twice: say where it was measured
                state["header"].setdefault("kept", {})[key] = earlier["kept"][key]
                continue
            profiles = (earlier.get("profiles") or {}).get("throughput")
            state["header"].setdefault("kept", {})[key] = (
                f"{earlier.get('date', '?')}, commit {str(earlier.get('commit', '?')).split()[0]}"
                + (f", throughput profile {'/'.join(map(str, profiles))}" if profiles else "")
                + ("" if (earlier.get("profiles") or {}).get("latency") else ", no batch-1 profile"))
            continue
        if args.deadline and time.perf_counter() - started > args.deadline:
            log.info("deadline reached; %s and later units left for --resume", key)
            break
        unit_start = time.perf_counter()
        state["units"][key] = run()
        log.info("%s: done in %.0f s", key, time.perf_counter() - unit_start)
        save()
    save()
    sys.stdout.write((out / "gpu_report.md").read_text())
    log.info("wrote %s and %s", state_path, out / "gpu_report.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
