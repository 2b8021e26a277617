"""CLI commands ``trtforge optimize`` and ``trtforge export triton``.

Thin: the work is :func:`trtforge.report.optimization.optimize` and
:func:`trtforge.export.triton.export_triton`. Each rebuilds its own command line (absolute
paths) for the ``reproduce.sh`` it writes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from trtforge.errors import NoCandidateError

DEFAULT_OUT = "optimize-output"


def _add_triton_options(p: argparse.ArgumentParser, prefix: str = "") -> None:
    p.add_argument("--name", help=f"{prefix}Triton model name and folder (default: from the "
                   "engine or model name)")
    p.add_argument("--max-batch", type=int, metavar="N",
                   help=f"{prefix}max_batch_size (default: the largest batch the profiles take; "
                        "0: no Triton batching, full shapes)")
    p.add_argument("--instances", type=int, default=1, metavar="K",
                   help=f"{prefix}model instances per GPU (instance_group count, KIND_GPU)")
    p.add_argument("--dynamic-batching", action="store_true",
                   help=f"{prefix}enable dynamic batching, preferred sizes from the profiles' opt batches")
    p.add_argument("--force", action="store_true",
                   help="replace an existing model folder (one trtforge wrote is replaced anyway "
                        "by optimize)" if prefix else "replace an existing model folder")


# --- optimize -----------------------------------------------------------------------------
def configure_optimize(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file or folder (.onnx, .keras, .h5, SavedModel dir, .pb, "
                   "model.py, torchvision:NAME)")
    p.add_argument("--backends", "-b", default=None,
                   help="comma-separated routes (default: every installed route that accepts the model)")
    p.add_argument("--precisions", "-p", default="fp32,fp16,int8",
                   help="comma-separated precisions to try (default fp32,fp16,int8)")
    p.add_argument("--max-drop", type=float, default=0.5, metavar="POINTS",
                   help="top-1 points an engine may lose on --data (default 0.5); without data "
                        "the check's tolerance per precision decides")
    p.add_argument("--objective", choices=("throughput", "latency"), default="throughput",
                   help="rank by median GPU throughput or p99 latency (without a GPU: a stated "
                        "proxy, lower precision then smaller engine)")
    p.add_argument("--batch", type=int, default=1, metavar="N", help="batch size the GPU timings use")
    p.add_argument("--data", metavar="NPZ",
                   help="labelled data (.npz with arrays x and y): the accuracy budget, and INT8 calibration")
    p.add_argument("--calibration", metavar="NPY_OR_JSON",
                   help="INT8 calibration: a .npy array of inputs or a calibration cache .json")
    p.add_argument("--input", "-i", action="append", default=[], metavar="SPEC",
                   help="NAME[:DTYPE]:SHAPE or NAME[:DTYPE]:MIN,OPT,MAX (profiles separated by ';')")
    p.add_argument("--target", "-t", default=None,
                   help="GPU to build for, e.g. sm89 (default: this GPU, or sm89 without one)")
    p.add_argument("--out", "-o", default=DEFAULT_OUT,
                   help=f"folder for the winner, the report and reproduce.sh (default {DEFAULT_OUT})")
    p.add_argument("--format", choices=("trtforge", "triton"), default="trtforge",
                   help="trtforge: engine + sidecar + snapshot; triton: --out becomes a Triton "
                        "model repository")
    p.add_argument("--iterations", type=int, default=100, help="timed GPU iterations per engine")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the engine cache")
    p.add_argument("--json", action="store_true", help="print the decision as JSON")
    _add_triton_options(p, prefix="with --format triton: ")


def _absolute(path: str | None) -> str | None:
    return os.path.abspath(os.path.expanduser(path)) if path else path


def _model_arg(model: str) -> str:
    """The model argument with an absolute path, where it is a file or folder."""
    path, sep, attr = model.partition(".py:")
    if sep and os.path.exists(path + ".py"):
        return f"{_absolute(path + '.py')}:{attr}"
    return (_absolute(model) or model) if os.path.exists(model) else model


def _optimize_argv(args: argparse.Namespace) -> list[str]:
    model = _model_arg(args.model)
    argv = ["optimize", model]
    if args.backends:
        argv += ["--backends", args.backends]
    argv += ["--precisions", args.precisions, "--max-drop", f"{args.max_drop:g}",
             "--objective", args.objective, "--batch", str(args.batch)]
    for option, value in (("--data", _absolute(args.data)),
                          ("--calibration", _absolute(args.calibration)), ("--target", args.target)):
        if value:
            argv += [option, value]
    for spec in args.input:
        argv += ["--input", spec]
    argv += ["--out", _absolute(args.out) or "", "--format", args.format]
    if args.iterations != 100:
        argv += ["--iterations", str(args.iterations)]
    if args.no_cache:
        argv.append("--no-cache")
    argv += _triton_argv(args, args.format == "triton")
    return argv


def _triton_flags(args: argparse.Namespace) -> list[str]:
    """The Triton flags as given, for reproduce.sh (optimize and export share them)."""
    argv: list[str] = []
    if args.name:
        argv += ["--name", args.name]
    if args.max_batch is not None:
        argv += ["--max-batch", str(args.max_batch)]
    if args.instances != 1:
        argv += ["--instances", str(args.instances)]
    return argv


def _triton_argv(args: argparse.Namespace, triton: bool) -> list[str]:
    argv: list[str] = []
    if triton:
        argv += _triton_flags(args)
        if args.dynamic_batching:
            argv.append("--dynamic-batching")
    if args.force:
        argv.append("--force")
    return argv


def run_optimize(args: argparse.Namespace) -> int:
    from trtforge.cli.compare import _load_calibration, _load_labelled
    from trtforge.cli.output import progress as _progress
    from trtforge.report.optimization import optimize

    triton = {"name": args.name, "max_batch": args.max_batch, "instances": args.instances,
              "dynamic_batching": args.dynamic_batching}
    try:
        with _progress():
            result = optimize(
                args.model, backends=args.backends, precisions=args.precisions,
                max_drop=args.max_drop, objective=args.objective, batch=args.batch,
                data=_load_labelled(args.data), out=args.out, format=args.format,
                target=args.target, inputs=args.input or None,
                calibration=_load_calibration(args.calibration), cache=not args.no_cache,
                iterations=args.iterations, triton=triton, force=args.force,
                command=_optimize_argv(args))
    except NoCandidateError as exc:
        if exc.result is not None:
            _print(exc.result, args)
        raise
    _print(result, args)
    return 0


def _print(result: Any, args: argparse.Namespace) -> None:
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str) + "\n")
        return
    from trtforge.cli.output import console as _console, table as _table

    console = _console()
    result.report.print(console)
    rows = [(c.rank or "", c.route, c.precision, c.status, c.reason) for c in result.candidates]
    console.print(_table("optimize: candidates", ["rank", "route", "precision", "status", "why"], rows))
    console.print(f"ranking: {result.ranking}", highlight=False, markup=False)
    winner = result.winner
    if winner is not None:
        console.print(f"chose {winner.route} {winner.precision}", highlight=False, markup=False)
    for path in result.written.values():
        console.print(f"wrote {path}", highlight=False, markup=False)


# --- export -------------------------------------------------------------------------------
def configure_export(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="export_format", metavar="FORMAT", required=True)
    triton = sub.add_parser("triton", help="a Triton model repository folder: NAME/1/model.plan "
                            "and NAME/config.pbtxt", description="Write REPO/NAME/1/model.plan, "
                            "config.pbtxt (platform tensorrt_plan, tensors, batching and profiles "
                            "from the engine), README.md and reproduce.sh.")
    triton.add_argument("engine", help="engine file written by trtforge (with its .json sidecar)")
    triton.add_argument("--repo", required=True, metavar="DIR", help="the model repository folder")
    triton.add_argument("--snapshot", action="store_true",
                        help="also copy the network snapshot (to rebuild the plan where Triton runs)")
    _add_triton_options(triton)


def run_export(args: argparse.Namespace) -> int:
    from trtforge.cli.output import console as _console
    from trtforge.export.triton import CONFIG_NAME, export_triton

    argv = ["export", "triton", _absolute(args.engine) or "", "--repo", _absolute(args.repo) or ""]
    argv += _triton_flags(args)
    for flag, given in (("--dynamic-batching", args.dynamic_batching), ("--snapshot", args.snapshot),
                        ("--force", args.force)):
        if given:
            argv.append(flag)
    folder = export_triton(args.engine, args.repo, name=args.name, max_batch=args.max_batch,
                           instances=args.instances, dynamic_batching=args.dynamic_batching,
                           replace=args.force, snapshot=args.snapshot, command=argv)
    console = _console()
    console.print(f"ok: Triton model {folder.name} written to {folder}", highlight=False, markup=False)
    console.print((folder / CONFIG_NAME).read_text(encoding="utf-8"), highlight=False, markup=False)
    return 0
