"""``trtforge inspect``, ``doctor``, ``plugins`` and ``cache``: what an engine, this machine,
the installed plugins and the engine cache hold."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from trtforge import __version__
from trtforge.cli.output import console as _console
from trtforge.cli.output import print_json as _print_json
from trtforge.cli.output import table as _table


# --- inspect ----------------------------------------------------------------------------
def configure_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("engine", help="engine file written by trtforge (with its .json sidecar)")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")


def run_inspect(args: argparse.Namespace) -> int:
    from trtforge.conversion.engine import Engine

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
    from trtforge.tensorrt.gpu import probe_gpus
    from trtforge.tensorrt.trt import get_tensorrt

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


def configure_doctor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


def run_doctor(args: argparse.Namespace) -> int:
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
    from trtforge.plugin import plugins
    from trtforge.plugin.backends import registry

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


def configure_plugins(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


def run_plugins(args: argparse.Namespace) -> int:
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
def configure_cache(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["list", "clear"])
    p.add_argument("--cache-dir", help="engine cache folder")
    p.add_argument("--json", action="store_true")


def run_cache(args: argparse.Namespace) -> int:
    from trtforge.conversion.cache import EngineCache

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
