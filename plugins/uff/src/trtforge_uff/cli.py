"""``trtforge uff ...``: inspect a UFF file; write one from a TF graph (``from-tf``)."""
from __future__ import annotations

import argparse
from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="uff_command", metavar="COMMAND")
    sub.required = True
    inspect = sub.add_parser("inspect", help="ops, plugin nodes, inputs/outputs and problems of a UFF file")
    inspect.add_argument("file", help="a .uff file or its .pbtxt text form")
    inspect.add_argument("--json", action="store_true", help="print the summary as JSON")
    from_tf = sub.add_parser("from-tf", help="write a TF model (frozen .pb, SavedModel, Keras) as .uff + .pbtxt")
    from_tf.add_argument("model", help="the TF model")
    from_tf.add_argument("--output", "-o", required=True, help="the .uff file to write (the .pbtxt goes beside it)")
    from_tf.add_argument("--input-name", action="append", default=None, help="graph input (repeatable)")
    from_tf.add_argument("--output-name", action="append", default=None, help="graph output (repeatable)")


def run(args: argparse.Namespace) -> int:
    if args.uff_command == "inspect":
        return _inspect(args)
    return _from_tf(args)


def _inspect(args: argparse.Namespace) -> int:
    from trtforge.cli.output import console, print_json, table

    from trtforge_uff.inspect import describe

    summary = describe(args.file)
    if args.json:
        print_json(summary)
        return 1 if summary["problems"] else 0
    out = console()
    descriptors = ", ".join(f"{d['id']} v{d['version']}" for d in summary["descriptors"]) or "none"
    out.print(f"UFF {summary['file']}: version {summary['version']}, core descriptor version "
              f"{summary['descriptor_core_version']}, descriptors {descriptors}", markup=False)
    for graph in summary["graphs"]:
        out.print(table(f"graph {graph['id']}: {graph['nodes']} nodes", ["op", "count"],
                        list(graph["ops"].items())))
        rows: list[Any] = [("input", i["name"], i["dtype"], i["shape"]) for i in graph["inputs"]]
        rows += [("output", name, "", "") for name in graph["outputs"]]
        out.print(table("inputs and outputs", ["io", "name", "dtype", "shape"], rows))
        if graph["plugin_nodes"]:
            out.print(table("plugin nodes", ["name", "op", "inputs", "fields"], [
                (p["name"], p["op"], ", ".join(p["inputs"]),
                 "; ".join(f"{k}={v}" for k, v in p["fields"].items())) for p in graph["plugin_nodes"]]))
        if graph["ops_without_converter"]:
            out.print(f"no converter here for: {', '.join(graph['ops_without_converter'])}", markup=False)
    for problem in summary["problems"]:
        out.print(f"problem: {problem}", markup=False)
    return 1 if summary["problems"] else 0


def _from_tf(args: argparse.Namespace) -> int:
    from pathlib import Path

    from trtforge.errors import UsageError

    from trtforge_uff.tf2uff.source import write_uff_from_tf

    output = Path(args.output)
    if output.suffix.lower() != ".uff":
        raise UsageError(f"--output {output} must end in .uff", hint="e.g. --output model.uff")
    written = write_uff_from_tf(args.model, output, input_names=args.input_name, output_names=args.output_name)
    for path in written:
        print(path)
    return 0
