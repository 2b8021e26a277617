"""``trtforge demo``, added through the same ``register_commands`` hook as any plugin's
commands; nothing heavy is imported here."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from trtforge.plugin.hookspecs import hookimpl

if TYPE_CHECKING:
    from trtforge.plugin.plugins import Registrar


def configure_demo(p: argparse.ArgumentParser) -> None:
    from trtforge_zoo.demo import DEFAULT_OUT, MODELS

    p.add_argument("--out", "-o", default=DEFAULT_OUT, help=f"report folder (default {DEFAULT_OUT})")
    p.add_argument("--models", default=",".join(MODELS),
                   help=f"comma-separated zoo models (default {','.join(MODELS)})")
    p.add_argument("--backends", "-b", default=None, help="routes (default: every installed route)")
    p.add_argument("--precisions", "-p", default="fp32,fp16,int8")
    p.add_argument("--target", "-t", default=None, help="GPU to build for (default sm89 without a GPU)")
    p.add_argument("--no-cache", action="store_true", help="rebuild every engine")
    p.add_argument("--no-torch-compile", action="store_true",
                   help="skip the torch.compile baseline of the digits model")


def run_demo(args: argparse.Namespace) -> int:
    import logging
    import os

    from trtforge.cli.output import console as _console, progress as _progress
    from trtforge_zoo.demo import run_demo as demo

    # The zoo builds TF1-style graphs on purpose; TensorFlow's deprecation chatter would bury
    # the report (--debug keeps it).
    if not args.debug:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        logging.getLogger("absl").setLevel(logging.ERROR)
    console = _console()
    with _progress():
        report, written = demo(  # run_demo resolves the target (this GPU, or sm89 without one)
            out=args.out, models=[m.strip() for m in args.models.split(",") if m.strip()],
            backends=args.backends, precisions=args.precisions, target=args.target,
            cache=not args.no_cache, torch_compile=not args.no_torch_compile,
        )
    report.print(console)
    for path in written.values():
        console.print(f"wrote {path}", highlight=False, markup=False)
    return 0


@hookimpl
def register_commands(register: "Registrar") -> None:
    register.command("demo", "the seed's four models and a digits classifier through every route",
                     configure_demo, run_demo)
