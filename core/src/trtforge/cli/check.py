"""CLI: ``trtforge check MODEL ENGINE`` and ``trtforge debug layers MODEL ENGINE``.

Both run on a machine without a GPU: the engine's saved network snapshot runs on the CPU
reference executor and the model in its own framework (see :mod:`trtforge.check`).
"""
from __future__ import annotations

import argparse
from typing import Any

from trtforge.errors import UsageError


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="the source model (.onnx, .keras, .h5, SavedModel dir, .pb, "
                   "or a loader name such as torchvision:resnet50)")
    p.add_argument("engine", help="engine file saved with its snapshot (convert -o PATH --snapshot), "
                   "or a PATH.snapshot.json file")
    p.add_argument("--inputs", metavar="NPZ", help=".npz file with one array per network input "
                   "(default: seeded random inputs at each profile's opt shape)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    p.add_argument("--precision", help="tolerance policy to apply (default: the engine's precision)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def configure_check(p: argparse.ArgumentParser) -> None:
    _common(p)


def _load_inputs(path: str | None) -> Any:
    if not path:
        return None
    from trtforge.guard import load_arrays

    return load_arrays(path, "--inputs", hint="give an .npz written by numpy.savez")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_check(report: Any, title: str) -> None:
    from trtforge.cli.output import console as _console, table as _table

    console = _console()
    rows = []
    for o in report.outputs:
        top = "-" if o.top1 is None else f"{o.top1:.0%} / {o.top5:.0%} ({o.decisive}/{o.samples} decisive)"
        rows.append((o.name, tuple(o.shape), _fmt(o.max_abs), _fmt(o.allowed_abs), _fmt(o.max_rel),
                     f"{o.cosine:.6f}", top, "pass" if o.passed else "FAIL: " + "; ".join(o.reasons)))
    console.print(_table(title, ["output", "shape", "max abs", "allowed", "max rel", "cosine",
                                 "top-1 / top-5", "verdict"], rows))
    tol = report.tolerance
    console.print(f"precision {report.precision}: max abs <= {tol.range_fraction:g} x output range, "
                  f"cosine >= {tol.min_cosine}, decisive top-1 >= {tol.min_top1:.0%}; "
                  f"source run by {report.source_kind}; inputs {report.inputs}", markup=False)
    for note in report.notes:
        console.print(f"note: {note}", markup=False)
    verdict = "[bold green]PASS[/]" if report.passed else "[bold red]FAIL[/]"
    console.print(f"{verdict} the network computes {'what' if report.passed else 'something other than what'} "
                  f"the source model computes, within the {report.precision} tolerance")


def run_check(args: argparse.Namespace) -> int:
    from trtforge.verify.checking import check

    report = check(args.model, args.engine, _load_inputs(args.inputs), precision=args.precision,
                   seed=args.seed)
    if args.json:
        from trtforge.cli.output import print_json as _print_json

        _print_json(report.to_dict())
    else:
        _print_check(report, f"check {args.engine} against {args.model}")
    return 0 if report.passed else 1


def configure_debug(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="debug_command", metavar="WHAT")
    layers = sub.add_parser("layers", help="compare every intermediate tensor that maps to the "
                            "source and report the first diverging layer",
                            description="compare intermediate tensors layer by layer")
    _common(layers)
    layers.add_argument("--all", action="store_true", help="list every compared layer, not only "
                        "the ones around the first divergence")
    layers.set_defaults(run=run_debug_layers)


def run_debug(args: argparse.Namespace) -> int:
    raise UsageError("say what to debug", hint="trtforge debug layers MODEL ENGINE")


def run_debug_layers(args: argparse.Namespace) -> int:
    from trtforge.verify.checking import debug_layers
    from trtforge.cli.output import console as _console, print_json as _print_json, table as _table

    report = debug_layers(args.model, args.engine, _load_inputs(args.inputs), precision=args.precision,
                          seed=args.seed)
    if args.json:
        _print_json(report.to_dict())
        return 0 if report.first_divergence is None and report.check.passed else 1
    console = _console()
    rows = report.compared
    if not args.all and report.first_divergence is not None:
        at = rows.index(report.first_divergence)
        rows = rows[max(0, at - 5): at + 3]
    elif not args.all:
        rows = rows[-10:]
    console.print(_table(
        f"layers of {args.engine} against {args.model} ({len(report.compared)} compared, "
        f"{report.unmapped} without a source value)",
        ["#", "layer", "type", "source node", "max abs", "cosine", "verdict"],
        [(c.index, c.layer, c.layer_type, c.source_node, _fmt(c.metrics.max_abs),
          f"{c.metrics.cosine:.6f}", "ok" if c.metrics.passed else "DIVERGES: " + "; ".join(c.metrics.reasons))
         for c in rows]))
    for note in report.check.notes:
        console.print(f"note: {note}", markup=False)
    first = report.first_divergence
    if first is None:
        console.print("[bold green]no layer diverges[/] beyond the "
                      f"{report.check.precision} tolerance" + ("" if report.check.passed else
                                                              "; the final outputs still differ"))
        return 0 if report.check.passed else 1
    from trtforge.cli.output import esc as _esc

    console.print("[bold red]first divergence[/] " + _esc(
        f"at layer {first.index} {first.layer!r} ({first.layer_type}), tensor {first.tensor!r}, "
        f"source node {first.source_node}: " + "; ".join(first.metrics.reasons)))
    return 1
