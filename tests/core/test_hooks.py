"""Every hook goes through pluggy (wrappers and tracing see it), misspelled hooks are refused,
typed registrars; and a meta-test: each hook in hookspecs is documented and has a test here."""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from trtforge import hookimpl

from trtforge.plugin import hookspecs, plugins
from trtforge.plugin.backends import registry
from trtforge.errors import PluginError
from trtforge.models.sources import ModelFormat
from tiny_route import TinyBackend, TinyModel, _fingerprint

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("register_"))


class Typed:
    """A plugin written against the typed registrar."""

    @hookimpl
    def register_backends(self, register: Any) -> None:
        register.backend(TinyBackend("typed_route"))

    @hookimpl
    def register_model_formats(self, register: Any) -> None:
        register.model_format(ModelFormat("tiny-model", "test model",
                                          lambda o: isinstance(o, TinyModel), _fingerprint))

    @hookimpl
    def register_converters(self, route: str, register: Any) -> None:
        if route == "typed_route":
            register.converter({"op": "tiny.op"})

    @hookimpl
    def register_commands(self, register: Any) -> None:
        register.command("typed-hello", "say hello", run=lambda args: 0)

    @hookimpl
    def register_stage_kinds(self, register: Any) -> None:
        register.stage_kind("typed.stage", _load_typed_stage)


class Wrapper:
    """A hook wrapper: sees every call when hooks are called through pluggy."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def _wrap(self, name: str) -> Iterator[None]:
        self.seen.append(name)
        return (yield)

    @hookimpl(wrapper=True)
    def register_backends(self, register: Any) -> Iterator[None]:
        return (yield from self._wrap("register_backends"))

    @hookimpl(wrapper=True)
    def register_model_formats(self, register: Any) -> Iterator[None]:
        return (yield from self._wrap("register_model_formats"))

    @hookimpl(wrapper=True)
    def register_converters(self, route: str, register: Any) -> Iterator[None]:
        return (yield from self._wrap("register_converters"))

    @hookimpl(wrapper=True)
    def register_commands(self, register: Any) -> Iterator[None]:
        return (yield from self._wrap("register_commands"))

    @hookimpl(wrapper=True)
    def register_stage_kinds(self, register: Any) -> Iterator[None]:
        return (yield from self._wrap("register_stage_kinds"))


def _load_typed_stage(folder: Path, entry: Any) -> tuple[str, str]:
    return ("typed stage", str(entry["name"]))


@pytest.fixture
def typed(plugin_registry: Callable[..., str]) -> Wrapper:
    wrapper = Wrapper()
    plugin_registry(Typed(), name="typed")
    plugin_registry(wrapper, name="wrapper")
    return wrapper


def test_hook_register_backends(typed: Wrapper) -> None:
    assert "typed_route" in registry().names()
    entry = next(e for e in plugins.collect_backends() if e.item.name == "typed_route")
    assert entry.plugin == "typed" and "register_backends" in typed.seen


def test_hook_register_model_formats(typed: Wrapper) -> None:
    entries = [e for e in plugins.collect_model_formats() if e.plugin == "typed"]
    assert [e.item.kind for e in entries] == ["tiny-model"]
    assert "register_model_formats" in typed.seen


def test_hook_register_converters(typed: Wrapper) -> None:
    assert [(e.plugin, e.item) for e in plugins.collect_converters("typed_route")] == \
        [("typed", {"op": "tiny.op"})]
    assert plugins.collect_converters("another_route") == []
    assert "register_converters" in typed.seen


def test_hook_register_commands(typed: Wrapper) -> None:
    (entry,) = [e for e in plugins.collect_commands() if e.plugin == "typed"]
    assert entry.item == plugins.Command("typed-hello", "say hello", None, entry.item.run)
    assert "register_commands" in typed.seen
    from trtforge.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["typed-hello"]).run(None) == 0


def test_hook_register_stage_kinds(typed: Wrapper) -> None:
    from trtforge.errors import EngineFileError
    from trtforge.program.stages import load_stage

    (entry,) = [e for e in plugins.collect_stage_kinds() if e.plugin == "typed"]
    assert entry.item == plugins.StageKind("typed.stage", _load_typed_stage)
    assert "register_stage_kinds" in typed.seen
    # a saved program's stage of that kind loads through the plugin, an unknown one is named
    assert load_stage(Path("."), {"kind": "typed.stage", "name": "s1"},
                      check_compatibility=True) == ("typed stage", "s1")
    with pytest.raises(EngineFileError, match="unknown kind 'nobody.stage'") as info:
        load_stage(Path("."), {"kind": "nobody.stage", "name": "s2"}, check_compatibility=True)
    assert "typed.stage" in (info.value.hint or "")


def test_tracing_sees_hook_calls(typed: Wrapper) -> None:
    calls: list[str] = []
    undo = plugins.manager().add_hookcall_monitoring(
        lambda name, impls, kwargs: calls.append(name), lambda outcome, name, impls, kwargs: None)
    try:
        plugins.collect_backends()
    finally:
        undo()
    assert "register_backends" in calls


def test_old_callback_style_still_works(plugin_registry: Callable[..., str]) -> None:
    class Old:
        @hookimpl
        def register_backends(self, register: Any) -> None:
            register(TinyBackend("old_style"))

        @hookimpl
        def register_commands(self, register: Any) -> None:
            register("old-hello", "say hello", configure=None, run=lambda args: 0)

    plugin_registry(Old(), name="old")
    assert "old_style" in registry().names()
    (command,) = [e.item for e in plugins.collect_commands() if e.plugin == "old"]
    assert isinstance(command, plugins.Command) and command.name == "old-hello"


def test_typed_registrar_refuses_the_wrong_thing(plugin_registry: Callable[..., str]) -> None:
    class Wrong:
        @hookimpl
        def register_backends(self, register: Any) -> None:
            register.command("x", run=lambda args: 0)

    with pytest.raises(PluginError, match="register.command\\(\\) inside register_backends"):
        plugin_registry(Wrong(), name="wrong")  # registering collects the backends at once


def test_misspelled_hook_is_refused_by_name(plugin_registry: Callable[..., str]) -> None:
    class Misspelled:
        @hookimpl
        def register_backend(self, register: Any) -> None:  # no trailing s
            register.backend(TinyBackend("never"))

    with pytest.raises(PluginError, match="'register_backend', which is not a trtforge hook") as info:
        plugin_registry(Misspelled(), name="misspelled")
    assert "register_backends" in (info.value.hint or "")
    assert "misspelled" not in [p.name for p in plugins.plugin_infos()]
    plugins.check_pending()  # nothing pending is left behind


def test_every_hook_is_documented_and_tested() -> None:
    """datasette's rule: a hook without docs or without a test fails the suite."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tests = Path(__file__).read_text(encoding="utf-8")
    assert HOOKS == ["register_backends", "register_commands", "register_converters",
                     "register_model_formats", "register_stage_kinds"]
    undocumented = [h for h in HOOKS if f"`{h}" not in readme]
    untested = [h for h in HOOKS if not re.search(rf"^def test_hook_{h}\(", tests, re.M)]
    assert not undocumented, f"hooks missing from README.md: {undocumented}"
    assert not untested, f"hooks without a test_hook_<name> test: {untested}"


def test_core_commands_come_through_the_same_hook_and_keep_their_names(
        plugin_registry: Callable[..., str], caplog: pytest.LogCaptureFixture) -> None:
    """Built-in commands are registered by core's plugin ``trtforge.cli`` through
    ``register_commands`` (hook wrappers see them); a plugin command reusing a core name is
    left out with a warning and the core command stays."""
    from trtforge.cli import build_parser

    class Clash:
        @hookimpl
        def register_commands(self, register: Any) -> None:
            register.command("convert", "not the real convert", run=lambda args: 7)

    plugin_registry(Clash(), "clash")
    with caplog.at_level(logging.WARNING, logger="trtforge"):
        parser = build_parser()
    core = [entry.item.name for entry in plugins.collect_commands(only="trtforge.cli")]
    assert core[:2] == ["convert", "inspect"] and {"check", "build", "profile", "compare"} <= set(core)
    assert parser.parse_args(["convert", "m.onnx"]).run.__module__ == "trtforge.cli.convert"
    assert any("clash" in r.getMessage() and "already exists" in r.getMessage() for r in caplog.records)
