"""The ``trtforge`` command line: one-line errors with a hint, tracebacks only with --debug."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, Callable, Sequence

from trtforge import __version__
from trtforge.errors import TrtforgeError, UsageError

log = logging.getLogger("trtforge")

Runner = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is a UsageError: one ``error:`` line, a hint, exit 2."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}", hint=f"`{self.prog} --help` lists the arguments")


def build_parser(with_plugins: bool = True) -> argparse.ArgumentParser:
    """The parser with every command registered through ``register_commands``: core's own
    (plugin ``trtforge.cli``) first, then installed plugins' (``with_plugins=False``: core's only)."""
    parser = _Parser(
        prog="trtforge", description="Turn trained models into TensorRT engines.")
    parser.add_argument("--version", action="version", version=f"trtforge {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-v", "--verbose", action="store_true", help="show info logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_commands(sub, with_plugins)
    return parser


def _add_commands(sub: Any, with_plugins: bool) -> None:
    from trtforge.plugin import plugins
    from trtforge.cli import commands

    manager = plugins.manager()
    if not manager.has_plugin(commands.PLUGIN_NAME):
        # straight into pluggy: core's commands register no backend, so plugins.register's
        # duplicate-backend check (which calls every plugin's register_backends) is not needed
        manager.register(commands, name=commands.PLUGIN_NAME)
    try:
        registered = plugins.collect_commands()
    except Exception as exc:  # a plugin's command hook must not take the CLI down
        log.warning("plugin commands could not be loaded: %s; core commands only", exc)
        registered = plugins.collect_commands(only=commands.PLUGIN_NAME)
    for entry in registered:
        command = entry.item  # a plugins.Command, however the plugin registered it
        if entry.plugin == commands.PLUGIN_NAME:
            _add_command(sub, command.name, command.help, command.configure, command.run)
            continue
        if not with_plugins:
            continue
        try:
            _add_command(sub, command.name, f"{command.help} [{entry.plugin}]", command.configure,
                         command.run, description=command.help)
        except Exception as exc:
            log.warning("plugin %s: command not added: %s", entry.plugin, exc)


def _add_command(sub: Any, name: str, help: str = "", configure: Any = None,
                 run: Runner | None = None, description: str | None = None) -> None:
    if name in sub.choices:
        raise UsageError(f"command {name!r} already exists")
    if run is None:
        raise UsageError(f"command {name!r} has no run function")
    p = sub.add_parser(name, help=help, description=description or help)
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
