"""``trtforge convert``: a model in, an engine file out."""
from __future__ import annotations

import argparse
import json
from typing import Any, Sequence

from trtforge.cli.output import console as _console
from trtforge.cli.output import esc as _esc
from trtforge.cli.output import progress as _progress
from trtforge.cli.output import table as _table
from trtforge.errors import UsageError


# --- convert --------------------------------------------------------------------------
def configure_convert(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?",
                   help="model file or folder (.onnx, .keras, .h5, SavedModel dir, .pb, ...)")
    p.add_argument("--backend", "-b", default="auto", help="route name, or 'auto' (default)")
    p.add_argument("--precision", "-p", default="fp32", help="fp32 (default), fp16, bf16 or int8")
    p.add_argument("--input", "-i", action="append", default=[], metavar="SPEC",
                   help="NAME[:DTYPE]:SHAPE or NAME[:DTYPE]:MIN,OPT,MAX (shapes like 1x3x224x224); "
                   "';' separates profiles; repeat per input")
    p.add_argument("--target", "-t", help="GPU to build for, e.g. sm89 (needed without a GPU)")
    p.add_argument("--output", "-o", help="where to write the engine (plus OUTPUT.json)")
    p.add_argument("--snapshot", action="store_true",
                   help="also write the network snapshot (OUTPUT.snapshot.json/.npz) for `trtforge check`")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the engine cache")
    p.add_argument("--cache-dir", help="engine cache folder (default: $TRTFORGE_CACHE_DIR or ~/.cache)")
    p.add_argument("--opt-level", type=int, help="builder optimization level 0-5")
    p.add_argument("--workspace", type=int, metavar="MIB", help="builder workspace limit in MiB")
    p.add_argument("--no-tf32", action="store_true", help="disable TF32 (exact FP32 math)")
    p.add_argument("--timing-cache", help="timing cache file to read and update")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="route-specific option (repeatable)")
    p.add_argument("--fallback", choices=("auto", "never", "always"), default="auto",
                   help="ops no converter takes: run them in the source framework (auto, default: "
                   "a hybrid program only where needed), refuse listing them (never), or always "
                   "write a program; -o then names a folder")
    p.add_argument("--min-block-size", type=int, metavar="N",
                   help="TensorRT segments with fewer compute ops stay in the framework (default 5)")
    p.add_argument("--framework-op", action="append", default=[], metavar="OP",
                   help="force an op out of TensorRT, e.g. aten.softmax.int (repeatable)")
    p.add_argument("--list-passes", action="store_true",
                   help="list the preparation passes of the chosen (or every) route, then exit")
    p.add_argument("--disable-pass", action="append", default=[], metavar="NAME",
                   help="skip one preparation pass of the route (repeatable; see --list-passes)")


def _list_passes(backend: str) -> int:
    """Print the passes of routes that have them (``Backend.passes()``)."""
    from trtforge.plugin.backends import registry

    routes = registry()
    entries = [routes.get(backend)] if backend != "auto" else routes.entries()
    rows = [(e.name, name, text) for e in entries for name, text in e.backend.passes()]
    if not rows:
        _console().print(f"no route here has preparation passes ({backend})", markup=False)
        return 0
    _console().print(_table("preparation passes (on by default)", ["route", "pass", "what it does"], rows))
    return 0


def _parse_options(items: Sequence[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"option {item!r} is not KEY=VALUE", hint="e.g. --option opset=17")
        key, value = item.split("=", 1)
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def run_convert(args: argparse.Namespace) -> int:
    from trtforge.conversion.api import convert

    if args.list_passes:
        return _list_passes(args.backend)
    if not args.model:
        raise UsageError("convert needs a model", hint="trtforge convert MODEL --target sm89 -o out.engine")
    if args.output is not None:
        _check_convert_output(args)
    if args.timing_cache:
        from trtforge.guard import refuse_output_over_sources

        refuse_output_over_sources(args.timing_cache, [args.model], what="--timing-cache")
    if args.workspace is not None and args.workspace <= 0:
        raise UsageError(f"--workspace must be a positive number of MiB, got {args.workspace}",
                         hint="e.g. --workspace 1024")
    cache: Any = False if args.no_cache else (args.cache_dir or True)
    options = _parse_options(args.option)
    options.update(getattr(args, "extra_options", {}) or {})
    if args.disable_pass:
        options["disable_passes"] = list(options.get("disable_passes") or []) + list(args.disable_pass)
    with _progress():
        engine = convert(
            args.model, backend=args.backend, precision=args.precision, inputs=args.input or None,
            target=args.target, cache=cache, optimization_level=args.opt_level,
            workspace_bytes=args.workspace * (1 << 20) if args.workspace else None,
            tf32=not args.no_tf32, timing_cache=args.timing_cache, options=options or None,
            fallback=args.fallback, min_block_size=args.min_block_size,
            framework_ops=args.framework_op,
        )
    from trtforge.program import Program

    if isinstance(engine, Program):
        return _report_program(engine, args)
    out = engine.save(args.output, snapshot=args.snapshot) if args.output else None
    meta = engine.metadata
    console = _console()
    hit = meta.get("cache", {}).get("hit")
    console.print(
        f"[bold green]ok[/] {_esc(meta['source']['name'])} via {_esc(meta['route'])} at "
        f"{_esc(meta['precision'])} for {_esc(meta.get('target') or 'this GPU')}: "
        f"{len(engine.plan) / 1e6:.1f} MB plan, "
        f"{_esc(meta.get('network', {}).get('layers', '?'))} layers"
        + (" (from cache)" if hit else f", built in {meta['build']['seconds']:.1f} s")
    )
    for route, reason in meta.get("fallbacks", {}).items():
        console.print(f"  [yellow]{_esc(route)} failed first:[/] {_esc(reason)}")
    for note in meta.get("notes", []):
        console.print(f"  note: {note}", markup=False)
    if out:
        console.print(f"  wrote {out} and {out.name}.json", markup=False)
    return 0


def _report_program(program: Any, args: argparse.Namespace) -> int:
    """A hybrid program: the fallback report, then where it was written."""
    console = _console()
    meta = program.metadata
    hit = meta.get("cache", {}).get("hit")
    console.print(f"[bold green]ok[/] {_esc(meta['source']['name'])} via {_esc(meta['route'])} at "
                  f"{_esc(meta['precision'])}: hybrid program of {len(program.stages)} stage(s), "
                  f"{len(program.engine_stages)} TensorRT engine(s)" + (" (from cache)" if hit else ""))
    report = program.extras.get("report")
    lines = report.lines() if report is not None else [
        f"{len(meta['fallback']['framework_ops'])} op(s) in the framework: "
        + ", ".join(meta["fallback"]["framework_ops"])]
    for line in lines:
        console.print(f"  {line}", markup=False)
    if args.output:
        out = program.save(args.output)
        console.print(f"  wrote the program folder {out} (load it with trtforge.Program.load)",
                      markup=False)
    return 0


def _check_convert_output(args: argparse.Namespace) -> None:
    """``-o`` must name a writable file that is none of the files the conversion reads."""
    from trtforge.conversion.engine import sidecar_path
    from trtforge.guard import check_output_file, refuse_output_over_sources
    from trtforge.verify.snapshot import snapshot_paths

    out = check_output_file(args.output, "-o")
    sources = [args.model, args.timing_cache]
    for written in (out, sidecar_path(out), *(snapshot_paths(out) if args.snapshot else ())):
        refuse_output_over_sources(written, sources, what="-o")
