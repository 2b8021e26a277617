"""Named, timed stages of a conversion, reported to logging and to one optional listener.

The CLI installs a listener that shows a spinner with the current stage; the library only
logs. Stage times end up in the engine metadata, so reports can split conversion time.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Callable, Iterator

log = logging.getLogger("trtforge")

Listener = Callable[[str, str, str], None]  # (event: "start" | "end", stage, detail)
_listener: Listener | None = None


def set_listener(listener: Listener | None) -> Listener | None:
    """Install a progress listener; returns the previous one."""
    global _listener
    previous, _listener = _listener, listener
    return previous


def notify(event: str, stage: str, detail: str = "") -> None:
    if _listener is not None:
        _listener(event, stage, detail)


class Stages:
    """Accumulates the wall time of each named stage."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.times: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[None]:
        label = f"{self.prefix}{name}"
        log.info("%s%s", label, f": {detail}" if detail else "")
        notify("start", label, detail)
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.times[name] = self.times.get(name, 0.0) + elapsed
            log.debug("%s took %.2f s", label, elapsed)
            notify("end", label, detail)
