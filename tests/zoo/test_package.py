"""The zoo is its own distribution: core never imports it, and `trtforge demo` comes from its
plugin through ``register_commands``, like any plugin's command."""
from __future__ import annotations

from pathlib import Path

from trtforge.plugin import plugins

CORE = Path(__file__).resolve().parents[2] / "core" / "src" / "trtforge"


def test_core_never_imports_the_zoo() -> None:
    users = [str(p.relative_to(CORE)) for p in CORE.rglob("*.py")
             if "trtforge_zoo" in p.read_text(encoding="utf-8")]
    assert users == []
    assert not (CORE / "zoo.py").exists() and not (CORE / "demo.py").exists()


def test_demo_command_is_the_zoo_plugins() -> None:
    from trtforge.cli import build_parser

    assert [entry.item.name for entry in plugins.collect_commands(only="zoo")] == ["demo"]
    assert "demo" not in [entry.item.name for entry in plugins.collect_commands(only="trtforge.cli")]
    args = build_parser().parse_args(["demo", "--models", "digits"])
    assert args.run.__module__ == "trtforge_zoo.plugin" and args.models == "digits"
