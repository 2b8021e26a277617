"""CLI commands ``trtforge compare`` and ``trtforge bench``.

Kept out of ``cli.py`` so the core CLI module stays small; each command is one
configure/run pair registered in ``trtforge.cli.commands``. Nothing heavy is imported until a
command runs.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from trtforge.errors import UsageError


# --- compare ------------------------------------------------------------------------------
def configure_compare(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file or folder (.onnx, .keras, .h5, SavedModel dir, .pb, ...)")
    p.add_argument("--backends", "-b", default=None,
                   help="comma-separated routes (default: every installed route that accepts the model)")
    p.add_argument("--precisions", "-p", default="fp32,fp16,int8",
                   help="comma-separated precisions (default fp32,fp16,int8)")
    p.add_argument("--target", "-t", default=None,
                   help="GPU to build for, e.g. sm89 (default: this GPU, or sm89 without one)")
    p.add_argument("--out", "-o", default=None, help="folder for report.json, report.md and charts")
    p.add_argument("--input", "-i", action="append", default=[], metavar="SPEC",
                   help="NAME[:DTYPE]:SHAPE or NAME[:DTYPE]:MIN,OPT,MAX; repeat per input")
    p.add_argument("--data", metavar="NPZ",
                   help="labelled data for accuracy (and INT8 calibration): .npz with arrays x and y")
    p.add_argument("--calibration", metavar="NPY_OR_JSON",
                   help="INT8 calibration: a .npy array of inputs or a calibration cache .json")
    p.add_argument("--batch-size", type=int, default=1, help="batch size for GPU timings")
    p.add_argument("--iterations", type=int, default=100, help="timed GPU iterations per engine")
    p.add_argument("--no-baselines", action="store_true", help="skip timing the source framework")
    p.add_argument("--torch-compile", action="store_true",
                   help="also time torch.compile as a baseline (slow to compile)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the engine cache")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def default_target(target: str | None) -> str | None:
    """The target to build for: the one given, this GPU, or sm89 where TensorRT-RTX has no GPU."""
    from trtforge.report.comparison import default_target as resolve

    return resolve(target)


def _load_labelled(path: str | None) -> Any:
    if not path:
        return None
    from trtforge.guard import load_arrays

    file = Path(path).expanduser()
    if not file.exists():
        raise UsageError(f"data file not found: {file}", hint="give an .npz with arrays x and y")
    arrays = load_arrays(file, "--data", hint="np.savez(path, x=inputs, y=labels)")
    if not isinstance(arrays, dict) or "x" not in arrays or "y" not in arrays:
        raise UsageError(f"{file} must hold arrays named x and y",
                         hint="np.savez(path, x=inputs, y=labels)")
    return arrays["x"], arrays["y"]


def _load_calibration(path: str | None) -> Any:
    if not path:
        return None
    file = Path(path).expanduser()
    if file.suffix == ".json":
        from trtforge.int8.calibration import Calibration

        return Calibration(cache=file)
    if not file.exists():
        raise UsageError(f"calibration file not found: {file}",
                         hint="give a .npy array of inputs or a calibration cache .json")
    from trtforge.guard import load_arrays

    data = load_arrays(file, "--calibration", hint="a .npy array of inputs, or a cache .json")
    if isinstance(data, dict):
        raise UsageError(f"--calibration file {file} is an .npz archive",
                         hint="give one .npy array of inputs (numpy.save), or a cache .json")
    return data


def run_compare(args: argparse.Namespace) -> int:
    from trtforge.cli.output import console as _console, progress as _progress
    from trtforge.report.comparison import compare

    if args.out is not None:
        from trtforge.guard import check_output_file, refuse_output_over_sources

        if not args.out.strip():
            raise UsageError("--out is empty", hint="give a folder for the report, e.g. --out report/")
        refuse_output_over_sources(args.out, [args.model, args.data, args.calibration], what="--out")
        if Path(args.out).expanduser().exists() and not Path(args.out).expanduser().is_dir():
            raise UsageError(f"--out {args.out} is a file, not a folder", hint="give a folder")
        check_output_file(Path(args.out) / "report.json", "--out")
    with _progress():
        report = compare(
            args.model, backends=args.backends, precisions=args.precisions,
            data=_load_labelled(args.data), target=default_target(args.target),
            inputs=args.input or None, calibration=_load_calibration(args.calibration),
            cache=not args.no_cache, baselines=not args.no_baselines,
            torch_compile=args.torch_compile, batch_size=args.batch_size,
            gpu_iterations=args.iterations,
        )
    try:
        written = report.write(args.out) if args.out else {}
    except OSError as exc:
        raise UsageError(f"cannot write the report into {args.out}: {exc.strerror or exc}",
                         hint="choose a folder you can write to") from None
    # Exit status: 0 when at least one conversion worked, 1 when every one failed.
    status = 0 if any(row.ok for row in report.rows) else 1
    if args.json:
        sys.stdout.write(report.to_json())
        return status
    console = _console()
    report.print(console)
    for path in written.values():
        console.print(f"wrote {path}", highlight=False, markup=False)
    if status:
        sys.stderr.write(f"error: every conversion of {args.model} failed (see the report)\n"
                         "hint: each row gives its reason; `trtforge convert MODEL --backend NAME "
                         "--debug` shows one in full\n")
    return status


# --- bench --------------------------------------------------------------------------------
def configure_bench(p: argparse.ArgumentParser) -> None:
    p.add_argument("engine", help="engine file written by trtforge (with its .json sidecar); with "
                   "--native, the model itself")
    p.add_argument("--native", action="store_true",
                   help="time the model in its own framework instead (seed 002's --native): "
                   "TensorFlow, Keras, PyTorch or onnxruntime, on this machine's device")
    p.add_argument("--input", "-i", action="append", default=[], metavar="SPEC",
                   help="with --native: NAME[:DTYPE]:SHAPE (e.g. x:float32:1x3x224x224) of an input "
                   "whose shape the model does not fix (the batch comes from --batch-size); repeat "
                   "per input, in the model's order")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--iterations", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--cuda-graph", action="store_true", help="launch through a CUDA graph")
    p.add_argument("--log", metavar="FILE", help="append the results to FILE (TF-TRT log.txt format)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def run_bench(args: argparse.Namespace) -> int:
    if args.native:
        from trtforge.report.benchmark import bench_native

        results = bench_native(args.engine, inputs=args.input, batch_size=args.batch_size,
                               iterations=args.iterations, warmup=args.warmup, log=args.log)
    else:
        if args.input:
            raise UsageError("--input is for --native runs",
                             hint="an engine's input shapes come from its profiles")
        from trtforge.conversion.engine import Engine
        from trtforge.tensorrt.runtime import check_runnable

        # Compatibility is judged by the runtime check, which names every reason (GPU, version).
        engine = Engine.load(args.engine, check_compatibility=False)
        check_runnable(engine.metadata)
        results = [engine.benchmark(batch_size=args.batch_size, iterations=args.iterations,
                                    warmup=args.warmup, cuda_graph=args.cuda_graph, log=args.log)]
    if args.json:
        payload = results[0] if len(results) == 1 and not args.native else results
        sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        return 0
    from trtforge.cli.output import console as _console, table as _table

    for result in results:
        rows = [(k, f"{v:.6g}" if isinstance(v, float) else v) for k, v in result.items()
                if k != "details"]
        rows += [(k, v) for k, v in result.get("details", {}).items()]
        _console().print(_table(f"benchmark {result.get('name', args.engine)}", ["statistic", "value"], rows))
    return 0
