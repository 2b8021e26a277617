"""CLI: ``trtforge build SNAPSHOT [--precision P] [--input SPEC] [--target smXY] [-o out.engine]``.

Thin: the work is :func:`trtforge.verify.snapshot_build.build_snapshot`.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def configure_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", help="X.snapshot.json (weights X.snapshot.npz, or its .partNNN pieces "
                   "beside it), or the engine X it was saved with")
    p.add_argument("--precision", "-p", help="default: the snapshot's own; weakly typed TensorRT "
                   "(8.x) can build an fp32 snapshot at fp16")
    p.add_argument("--input", "-i", action="append", default=[], metavar="SPEC",
                   help="override the snapshot's profile of one input: NAME[:DTYPE]:MIN,OPT,MAX")
    p.add_argument("--target", "-t", help="GPU to build for, e.g. sm89 (TensorRT-RTX without a GPU)")
    p.add_argument("--output", "-o", help="where to write the engine (plus OUTPUT.json); default "
                   "X.built.engine beside the snapshot")
    p.add_argument("--snapshot", action="store_true", dest="write_snapshot",
                   help="also write the rebuilt network's snapshot beside the engine (for `trtforge check`)")
    p.add_argument("--opt-level", type=int, help="builder optimization level 0-5")
    p.add_argument("--workspace", type=int, metavar="MIB", help="builder workspace limit in MiB")
    p.add_argument("--no-tf32", action="store_true", help="disable TF32 (exact FP32 math)")
    p.add_argument("--timing-cache", help="timing cache file (default: the one beside the engine cache)")


def default_output(snapshot: str) -> Path:
    from trtforge.verify.snapshot import snapshot_paths

    graph, _ = snapshot_paths(snapshot)
    stem = graph.name[: -len(".snapshot.json")]
    if stem.endswith((".engine", ".plan")):
        stem = stem.rsplit(".", 1)[0]
    return graph.with_name(stem + ".built.engine")


def run_build(args: argparse.Namespace) -> int:
    from trtforge.cli.output import console as _console
    from trtforge.verify.snapshot_build import build_snapshot

    settings = None
    if args.opt_level is not None or args.workspace or args.no_tf32 or args.timing_cache:
        from trtforge.conversion.specs import BuildSettings

        settings = BuildSettings(optimization_level=args.opt_level,
                                 workspace_bytes=args.workspace * (1 << 20) if args.workspace else None,
                                 tf32=not args.no_tf32, timing_cache=args.timing_cache)
    engine = build_snapshot(args.snapshot, precision=args.precision, inputs=args.input or None,
                            target=args.target, settings=settings)
    out = engine.save(args.output or default_output(args.snapshot), snapshot=args.write_snapshot)
    meta = engine.metadata
    _console().print(
        f"[bold green]ok[/] {meta['source'].get('name')} ({meta['route']} snapshot) at "
        f"{meta['precision']} for {meta.get('target') or 'this GPU'}: {len(engine.plan) / 1e6:.1f} MB "
        f"plan, built in {meta['build']['seconds']:.1f} s; wrote {out} and {out.name}.json")
    return 0
