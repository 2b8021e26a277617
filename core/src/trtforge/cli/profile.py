"""CLI: ``trtforge profile ENGINE [--batch N] [--iterations N] [--top N] [--json] [-o FILE]``.

Thin: the work is :func:`trtforge.report.profiling.profile_engine`. Where the plan cannot run (no
GPU, another TensorRT), it fails with one line saying why and a hint, like every command.
"""
from __future__ import annotations

import argparse


def configure_profile(p: argparse.ArgumentParser) -> None:
    p.add_argument("engine", help="engine file written by trtforge (with its .json sidecar)")
    p.add_argument("--batch", "-b", type=int, help="batch size (default: the profile's opt batch)")
    p.add_argument("--iterations", "-n", type=int, default=100, help="profiled runs (default 100)")
    p.add_argument("--warmup", type=int, default=10, help="unprofiled runs first (default 10)")
    p.add_argument("--top", type=int, default=25, help="layers shown; the rest are one row (default 25)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--output", "-o", help="also write the report as JSON to this file")


def run_profile(args: argparse.Namespace) -> int:
    from trtforge.cli.output import console as _console, print_json as _print_json, table as _table
    from trtforge.conversion.engine import Engine
    from trtforge.errors import UsageError
    from trtforge.report.profiling import format_rows, profile_engine

    if args.batch is not None and args.batch < 1:
        raise UsageError("--batch must be at least 1")
    engine = Engine.load(args.engine, check_compatibility=False)  # the runtime says why it cannot run
    report = profile_engine(engine, batch=args.batch, iterations=args.iterations, warmup=args.warmup)
    if args.output:
        report.write(args.output)
    if args.json:
        _print_json(report.to_dict())
        return 0
    console = _console()
    env = report.environment
    title = (f"{report.engine}: batch {report.batch}, {report.iterations} runs on {env.get('gpu')}, "
             f"{env.get('tensorrt')} — {report.total_ms:.3f} ms/run in layers"
             + (f", {report.wall_ms:.3f} ms/run wall (profiled)" if report.wall_ms else ""))
    console.print(_table(title, ["#", "engine layer", "kernel", "total ms", "avg ms", "share",
                                 "source ops"], format_rows(report, args.top)))
    console.print(f"{len(report.layers)} engine layers, {report.mapped} mapped to source ops")
    for note in report.notes:
        console.print(f"note: {note}")
    if args.output:
        console.print(f"wrote {args.output}")
    return 0
