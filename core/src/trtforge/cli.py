"""The ``trtforge`` command line: one-line errors with a hint, tracebacks only with --debug."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any, Callable, Sequence

from trtforge import __version__
from trtforge import cli_build as _cli_build
from trtforge import cli_check as _cli_check
from trtforge import cli_compare as _cli_compare
from trtforge import cli_profile as _cli_profile
from trtforge.cli_output import console as _console
from trtforge.cli_output import esc as _esc
from trtforge.cli_output import print_json as _print_json
from trtforge.cli_output import progress as _progress
from trtforge.cli_output import table as _table
from trtforge.errors import TrtforgeError, UsageError

log = logging.getLogger("trtforge")

Runner = Callable[[argparse.Namespace], int]


# --- convert --------------------------------------------------------------------------
def _configure_convert(p: argparse.ArgumentParser) -> None:
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
    p.add_argument("--list-passes", action="store_true",
                   help="list the preparation passes of the chosen (or every) route, then exit")
    p.add_argument("--disable-pass", action="append", default=[], metavar="NAME",
                   help="skip one preparation pass of the route (repeatable; see --list-passes)")


def _list_passes(backend: str) -> int:
    """Print the passes of routes that have them (``Backend.passes()``)."""
    from trtforge.backends import registry

    routes = registry()
    entries = [routes.get(backend)] if backend != "auto" else routes.entries()
    rows = [(e.name, name, text) for e in entries if callable(getattr(e.backend, "passes", None))
            for name, text in e.backend.passes()]
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


def _run_convert(args: argparse.Namespace) -> int:
    from trtforge.api import convert

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
        )
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


def _check_convert_output(args: argparse.Namespace) -> None:
    """``-o`` must name a writable file that is none of the files the conversion reads."""
    from trtforge.engine import sidecar_path
    from trtforge.guard import check_output_file, refuse_output_over_sources
    from trtforge.snapshot import snapshot_paths

    out = check_output_file(args.output, "-o")
    sources = [args.model, args.timing_cache]
    for written in (out, sidecar_path(out), *(snapshot_paths(out) if args.snapshot else ())):
        refuse_output_over_sources(written, sources, what="-o")


# --- inspect ----------------------------------------------------------------------------
def _configure_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("engine", help="engine file written by trtforge (with its .json sidecar)")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")


def _run_inspect(args: argparse.Namespace) -> int:
    from trtforge.engine import Engine

    engine = Engine.load(args.engine, check_compatibility=False)
    meta = engine.describe()
    if args.json:
        _print_json(meta)
        return 0
    console = _console()
    src = meta.get("source", {})
    rows = [
        ("route", meta["route"]), ("precision", meta["precision"]),
        ("target", meta.get("target") or "built for its GPU"),
        ("TensorRT", f"{meta['tensorrt'].get('flavor')} {meta['tensorrt'].get('version')}"),
        ("trtforge", meta["trtforge_version"]),
        ("plan", f"{meta['plan']['size']:,} bytes, sha256 {meta['plan']['sha256'][:16]}…"),
        ("source", f"{src.get('name')} ({src.get('kind')}), fingerprint {str(src.get('fingerprint'))[:16]}…"),
        ("layers", meta.get("network", {}).get("layers")),
        ("built", f"{meta.get('created')} in {meta.get('build', {}).get('seconds')} s"),
        ("verified", f"plan size and sha256; TensorRT {meta['verified']['tensorrt_version']}; "
                     f"claimed by the sidecar: {', '.join(meta['verified']['claimed'])}"),
    ]
    console.print(_table(f"engine {args.engine}", ["field", "value"], rows))
    io_rows = [("input", t["name"], t["dtype"], tuple(t["shape"])) for t in meta["inputs"]]
    io_rows += [("output", t["name"], t["dtype"], tuple(t["shape"])) for t in meta["outputs"]]
    console.print(_table("tensors", ["io", "name", "dtype", "shape"], io_rows))
    profile_rows = []
    for spec in meta.get("profiles", []):
        for k, p in enumerate(spec["profiles"]):
            profile_rows.append((spec["name"], k, tuple(p["min"]), tuple(p["opt"]), tuple(p["max"])))
    if profile_rows:
        console.print(_table("profiles", ["input", "#", "min", "opt", "max"], profile_rows))
    for note in meta.get("notes", []):
        console.print(f"note: {note}", markup=False)
    return 0


# --- doctor -----------------------------------------------------------------------------
def doctor_report() -> dict[str, Any]:
    from trtforge.errors import TensorRTError
    from trtforge.gpu import probe_gpus
    from trtforge.trt import get_tensorrt

    gpus = probe_gpus()
    report: dict[str, Any] = {
        "trtforge": __version__,
        "python": sys.version.split()[0],
        "gpus": [{"name": g.name, "compute_capability": g.sm} for g in gpus.gpus],
        "gpu_reason": gpus.reason or None,
    }
    try:
        adapter = get_tensorrt()
    except TensorRTError as exc:
        report["tensorrt"] = None
        report["can_build"] = {"ok": False, "why": exc.message}
        report["can_run"] = {"ok": False, "why": exc.message}
        return report
    report["tensorrt"] = {"flavor": adapter.flavor, "version": adapter.version,
                          "label": adapter.facts.label}
    report["behaviours"] = adapter.facts.behaviours()
    ok, why = adapter.can_build(gpus)
    report["can_build"] = {"ok": ok, "why": why}
    ok, why = adapter.can_run(gpus)
    report["can_run"] = {"ok": ok, "why": why}
    return report


def _configure_doctor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


def _run_doctor(args: argparse.Namespace) -> int:
    report = doctor_report()
    if args.json:
        _print_json(report)
        return 0
    trt = report["tensorrt"]
    gpu = ", ".join(f"{g['name']} ({g['compute_capability']})" for g in report["gpus"]) or (
        f"none — {report['gpu_reason']}")
    rows = [
        ("trtforge", report["trtforge"]), ("python", report["python"]),
        ("TensorRT", trt["label"] if trt else "not installed"),
        ("GPU", gpu),
        ("can build", ("yes — " if report["can_build"]["ok"] else "no — ") + report["can_build"]["why"]),
        ("can run engines", ("yes — " if report["can_run"]["ok"] else "no — ") + report["can_run"]["why"]),
    ]
    console = _console()
    console.print(_table("trtforge doctor", ["check", "result"], rows))
    for item in report.get("behaviours", []):
        console.print(f"  • {item}")
    return 0


# --- plugins ----------------------------------------------------------------------------
def plugins_report() -> list[dict[str, Any]]:
    from trtforge import plugins
    from trtforge.backends import registry

    by_plugin: dict[str, list[dict[str, Any]]] = {}
    for entry in registry().entries():
        availability = entry.backend.is_available()
        by_plugin.setdefault(entry.plugin, []).append({
            "name": entry.name, "priority": entry.backend.priority,
            "available": availability.ok, "reason": availability.reason or None,
        })
    return [
        {"name": info.name, "distribution": info.distribution, "version": info.version,
         "hooks": list(info.hooks), "broken": info.broken, "backends": by_plugin.get(info.name, [])}
        for info in plugins.plugin_infos()
    ]


def _configure_plugins(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


def _run_plugins(args: argparse.Namespace) -> int:
    report = plugins_report()
    if args.json:
        _print_json(report)
        return 0
    rows = []
    for plugin in report:
        backends = "; ".join(
            f"{b['name']} ({'available' if b['available'] else 'unavailable: ' + str(b['reason'])})"
            for b in plugin["backends"]) or "-"
        status = f"BROKEN: {plugin['broken']}" if plugin["broken"] else ", ".join(plugin["hooks"])
        rows.append((plugin["name"], plugin["version"] or "", status, backends))
    _console().print(_table("plugins", ["plugin", "version", "hooks", "backends"], rows))
    return 0


# --- cache ------------------------------------------------------------------------------
def _configure_cache(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["list", "clear"])
    p.add_argument("--cache-dir", help="engine cache folder")
    p.add_argument("--json", action="store_true")


def _run_cache(args: argparse.Namespace) -> int:
    from trtforge.cache import EngineCache

    cache = EngineCache(args.cache_dir)
    if args.action == "clear":
        count = cache.clear()
        _console().print(f"removed {count} engine(s) from {cache.root}", markup=False)
        return 0
    entries = cache.entries()
    if args.json:
        _print_json([{"key": e.key, "path": str(e.path), "size": e.size, "error": e.error,
                      "metadata": e.metadata} for e in entries])
        return 0
    rows = []
    for e in entries:
        m = e.metadata or {}
        rows.append((e.key[:12], (m.get("source") or {}).get("name", "?"), m.get("route", "?"),
                     m.get("precision", "?"), m.get("target", "?"), f"{e.size / 1e6:.1f} MB",
                     e.error or "ok"))
    _console().print(_table(f"engine cache {cache.root}",
                            ["key", "model", "route", "precision", "target", "size", "state"], rows))
    return 0


BUILTIN_COMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Runner]] = [
    ("convert", "convert a model into a TensorRT engine", _configure_convert, _run_convert),
    ("inspect", "show an engine's metadata", _configure_inspect, _run_inspect),
    ("doctor", "what this machine can build and run", _configure_doctor, _run_doctor),
    ("plugins", "list plugins, their hooks and backends", _configure_plugins, _run_plugins),
    ("cache", "list or clear the engine cache", _configure_cache, _run_cache),
    ("compare", "convert a model through many routes and precisions into one A/B report",
     _cli_compare.configure_compare, _cli_compare.run_compare),
    ("bench", "time an engine on this GPU (CUDA events; TF-TRT log.txt statistics)",
     _cli_compare.configure_bench, _cli_compare.run_bench),
    ("demo", "the seed's four models and a digits classifier through every route",
     _cli_compare.configure_demo, _cli_compare.run_demo),
    ("check", "check an engine's network against its source model on the CPU (no GPU needed)",
     _cli_check.configure_check, _cli_check.run_check),
    ("debug", "find where a network diverges from its source (debug layers MODEL ENGINE)",
     _cli_check.configure_debug, _cli_check.run_debug),
    ("profile", "time every engine layer on this GPU and map fused kernels to source ops",
     _cli_profile.configure_profile, _cli_profile.run_profile),
    ("build", "build an engine here from a network snapshot made elsewhere (convert --snapshot)",
     _cli_build.configure_build, _cli_build.run_build),
]


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is a UsageError: one ``error:`` line, a hint, exit 2."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}", hint=f"`{self.prog} --help` lists the arguments")


def build_parser(with_plugins: bool = True) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="trtforge", description="Turn trained models into TensorRT engines.")
    parser.add_argument("--version", action="version", version=f"trtforge {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-v", "--verbose", action="store_true", help="show info logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text, configure, run in BUILTIN_COMMANDS:
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(run=run)
    if with_plugins:
        _add_plugin_commands(sub)
    return parser


def _add_plugin_commands(sub: Any) -> None:
    from trtforge import plugins

    try:
        registered = plugins.collect_commands()
    except Exception as exc:  # a plugin's command hook must not take the CLI down
        log.warning("plugin commands could not be loaded: %s", exc)
        return
    for entry in registered:
        command = entry.item  # a plugins.Command, however the plugin registered it
        try:
            _add_command(sub, entry.plugin, command.name, command.help, command.configure, command.run)
        except Exception as exc:
            log.warning("plugin %s: command not added: %s", entry.plugin, exc)


def _add_command(sub: Any, plugin: str, name: str, help: str = "", configure: Any = None,
                 run: Runner | None = None) -> None:
    if name in sub.choices:
        raise UsageError(f"command {name!r} already exists")
    if run is None:
        raise UsageError(f"command {name!r} has no run function")
    p = sub.add_parser(name, help=f"{help} [{plugin}]", description=help)
    if configure is not None:
        configure(p)
    p.set_defaults(run=run)


class _OwnWarningsOnly(logging.Filter):
    """Without -v/--debug, show trtforge's own warnings but only errors from other libraries
    (converters and quantizers warn about every weight they round; that buries the result)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.startswith("trtforge") or record.levelno >= logging.ERROR


def _setup_logging(debug: bool, verbose: bool) -> None:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.captureWarnings(True)  # Python warnings go through the same handler and filter
    if not (debug or verbose):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info lines
    try:
        from rich.console import Console
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=Console(stderr=True), show_path=debug,
                                               show_time=False)
    except ImportError:  # pragma: no cover - rich is a dependency
        handler = logging.StreamHandler()
    if not (debug or verbose):
        handler.addFilter(_OwnWarningsOnly())
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    _setup_logging(debug, "-v" in argv or "--verbose" in argv)
    from trtforge.guard import clean_stale_work_dirs, restore_sigterm, terminate_cleanly

    previous = terminate_cleanly()  # SIGTERM unwinds like Ctrl-C: work/staging folders removed
    clean_stale_work_dirs()  # leftovers of killed runs
    try:
        return _main(argv, debug)
    finally:
        restore_sigterm(previous)


def _main(argv: list[str], debug: bool) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help()
            return 2
        return int(args.run(args) or 0)
    except TrtforgeError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {_one_line(exc.message)}\n")
        if exc.hint:
            sys.stderr.write(f"hint: {_one_line(exc.hint)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: nothing was written\n")
        return 130
    except Exception as exc:
        if debug:
            raise
        sys.stderr.write(f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))}\n")
        sys.stderr.write("hint: rerun with --debug for the traceback and report it\n")
        return 1


def _one_line(text: str) -> str:
    """Messages quoting other tools (parsers, onnxruntime) may span lines; the CLI prints one."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())
