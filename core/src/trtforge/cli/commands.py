"""Core's CLI commands, registered through the same ``register_commands`` hook as a plugin's.

A plugin of its own (``trtforge.cli``), registered by :func:`trtforge.cli.build_parser`
rather than by the plugin manager: the commands reach the whole library, and the manager
must not import them (that would close an import cycle through :mod:`trtforge.plugin.plugins`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from trtforge.plugin.hookspecs import hookimpl
from trtforge.plugin.plugins import CLI_PLUGIN as PLUGIN_NAME

if TYPE_CHECKING:
    from trtforge.plugin.plugins import Registrar

__all__ = ["PLUGIN_NAME", "register_commands"]


@hookimpl
def register_commands(register: "Registrar") -> None:
    from trtforge.cli.build import configure_build, run_build
    from trtforge.cli.check import configure_check, configure_debug, run_check, run_debug
    from trtforge.cli.compare import configure_bench, configure_compare, run_bench, run_compare
    from trtforge.cli.convert import configure_convert, run_convert
    from trtforge.cli.optimize import configure_export, configure_optimize, run_export, run_optimize
    from trtforge.cli.info import (configure_cache, configure_doctor, configure_inspect, configure_plugins,
                                   run_cache, run_doctor, run_inspect, run_plugins)
    from trtforge.cli.profile import configure_profile, run_profile

    register.command("convert", "convert a model into a TensorRT engine",
                     configure_convert, run_convert)
    register.command("inspect", "show an engine's metadata", configure_inspect, run_inspect)
    register.command("doctor", "what this machine can build and run", configure_doctor, run_doctor)
    register.command("plugins", "list plugins, their hooks and backends",
                     configure_plugins, run_plugins)
    register.command("cache", "list or clear the engine cache", configure_cache, run_cache)
    register.command("compare", "convert a model through many routes and precisions into one A/B report",
                     configure_compare, run_compare)
    register.command("optimize", "try every route x precision, keep the best engine within an "
                     "accuracy budget (and write it, or a Triton repository)",
                     configure_optimize, run_optimize)
    register.command("export", "export an engine for a server (export triton ENGINE --repo DIR)",
                     configure_export, run_export)
    register.command("bench", "time an engine on this GPU (CUDA events; TF-TRT log.txt statistics)",
                     configure_bench, run_bench)
    register.command("check", "check an engine's network against its source model on the CPU (no GPU needed)",
                     configure_check, run_check)
    register.command("debug", "find where a network diverges from its source (debug layers MODEL ENGINE)",
                     configure_debug, run_debug)
    register.command("profile", "time every engine layer on this GPU and map fused kernels to source ops",
                     configure_profile, run_profile)
    register.command("build",
                     "build an engine here from a network snapshot made elsewhere (convert --snapshot)",
                     configure_build, run_build)
