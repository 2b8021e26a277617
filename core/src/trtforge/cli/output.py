"""How the command line prints: JSON, rich consoles and tables, escaped user data, progress.

Its own module so that the sub-command modules (``trtforge.cli.check``, ``.compare``, ...) and
``cli`` share it without importing each other.
"""
from __future__ import annotations

import json
import sys
from typing import Any, Sequence


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def console() -> Any:
    from rich.console import Console

    # Piped output (logs, CI, tests) gets a wide console so tables are not folded.
    width = None if sys.stdout.isatty() else 160
    return Console(highlight=False, soft_wrap=True, width=width)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    from rich.table import Table

    from rich.text import Text

    # Cells and titles are plain text: a path or note like "a[/b]" is not rich markup.
    table = Table(title=Text(title), title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*[Text("" if v is None else str(v)) for v in row])
    return table


def esc(value: Any) -> str:
    """User data (paths, names, notes, reasons) escaped for printing with rich markup."""
    from rich.markup import escape

    return escape(str(value))


class progress:
    """Show the current stage on stderr while a conversion runs (only on a terminal)."""

    def __enter__(self) -> "progress":
        from trtforge import progress

        self._status = None
        if sys.stderr.isatty():
            from rich.console import Console

            self._status = Console(stderr=True).status("starting")
            self._status.start()
            self._previous = progress.set_listener(self._update)
        else:
            self._previous = progress.set_listener(self._log)
        return self

    def _update(self, event: str, stage: str, detail: str) -> None:
        if event == "start" and self._status is not None:
            self._status.update(esc(f"{stage}{': ' + detail if detail else ''}"))

    def _log(self, event: str, stage: str, detail: str) -> None:
        if event == "start":
            sys.stderr.write(f"... {stage}{': ' + detail if detail else ''}\n")

    def __exit__(self, *exc: Any) -> None:
        from trtforge import progress

        progress.set_listener(self._previous)
        if self._status is not None:
            self._status.stop()
