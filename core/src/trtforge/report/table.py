"""The A/B report of ``trtforge.compare``: rows, baselines, and their renderings.

One :class:`Row` per model x route x precision. Every cell that could not be measured holds
``None`` and a note saying why (``"n/a: ..."``), so a reader can tell "not measured here"
from "zero". Renderings: a rich terminal table, JSON, Markdown and two PNG charts (accuracy
change, conversion time per stage), all written atomically.
"""
from __future__ import annotations

import datetime as _dt
import importlib.util
import io
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from trtforge.atomic import atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)

JSON_NAME = "report.json"
MARKDOWN_NAME = "report.md"
ACCURACY_CHART = "accuracy_change.png"
STAGES_CHART = "stage_times.png"
GPU_COLUMNS = ("GPU latency", "GPU throughput")


@dataclass
class Row:
    """One conversion: a model through one route at one precision."""

    model: str
    route: str
    precision: str
    status: str  # "ok", "failed" or "skipped"
    reason: str | None = None
    unsupported: list[str] = field(default_factory=list)
    convert_seconds: float | None = None
    stages: dict[str, float] = field(default_factory=dict)
    engine_bytes: int | None = None
    layers: int | None = None
    target: str | None = None
    cache_hit: bool = False
    numerics: dict[str, Any] | None = None
    numerics_note: str | None = None
    accuracy: float | None = None
    accuracy_delta: float | None = None
    accuracy_note: str | None = None
    gpu: dict[str, Any] | None = None
    gpu_note: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class Baseline:
    """The source model in its own framework: timing (labelled with its device) and accuracy."""

    model: str
    framework: str
    device: str
    stats: dict[str, Any] | None = None
    accuracy: float | None = None
    note: str | None = None


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    baselines: list[Baseline] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    title: str = "trtforge A/B comparison"
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(
        timespec="seconds"))

    # --- combining ------------------------------------------------------------------
    def extend(self, other: "Report") -> "Report":
        """Add another report's rows, baselines and notes (the demo joins one per model)."""
        self.rows.extend(other.rows)
        self.baselines.extend(other.baselines)
        for note in other.notes:
            if note not in self.notes:
                self.notes.append(note)
        if not self.environment:
            self.environment = dict(other.environment)
        return self

    def row(self, model: str, route: str, precision: str) -> Row:
        for row in self.rows:
            if (row.model, row.route, row.precision) == (model, route, precision):
                return row
        raise KeyError((model, route, precision))

    @property
    def gpu_note(self) -> str | None:
        """Why the GPU columns are empty, if they are (one reason for the whole report)."""
        return self.environment.get("gpu_unavailable")

    # --- data -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "created": self.created,
            "environment": self.environment,
            "rows": [asdict(r) for r in self.rows],
            "baselines": [asdict(b) for b in self.baselines],
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Report":
        return cls(
            rows=[Row(**r) for r in data.get("rows", [])],
            baselines=[Baseline(**b) for b in data.get("baselines", [])],
            environment=dict(data.get("environment", {})),
            notes=list(data.get("notes", [])),
            title=data.get("title", cls.title),
            created=data.get("created", ""),
        )

    # --- cells ----------------------------------------------------------------------
    def table_rows(self) -> list[list[str]]:
        return [_cells(row, self.gpu_note) for row in self.rows]

    def baseline_rows(self) -> list[list[str]]:
        rows = []
        for b in self.baselines:
            if b.stats:
                latency = f"{b.stats['latency_median'] * 1e3:.2f} ms"
                fps = f"{b.stats['fps_median']:.1f}/s ± {b.stats['fps_uncertainty']:.1f}"
                batch = str(b.stats.get("batch_size", ""))
            else:
                latency, fps, batch = b.note or "n/a", "", ""
            accuracy = f"{b.accuracy * 100:.2f}%" if b.accuracy is not None else ""
            rows.append([b.model, b.framework, b.device, batch, latency, fps, accuracy])
        return rows

    # --- renderings -----------------------------------------------------------------
    def to_markdown(self) -> str:
        lines = [f"# {self.title}", "", f"Created {self.created}.", ""]
        env = self.environment
        if env:
            lines += ["| | |", "|---|---|"]
            for key in ("tensorrt", "target", "gpu", "can_run", "gpu_unavailable", "reference"):
                if env.get(key) is not None:
                    lines.append(f"| {key} | {_md(env[key])} |")
            lines.append("")
        lines += ["## Conversions", "", "| " + " | ".join(COLUMNS) + " |",
                  "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(_md(c) for c in cells) + " |" for cells in self.table_rows()]
        failed = [r for r in self.rows if r.status != "ok"]
        if failed:
            lines += ["", "## Failures", ""]
            for r in failed:
                lines.append(f"- **{r.model} / {r.route} / {r.precision}** ({r.status}): {_md(r.reason)}")
                if r.unsupported:
                    lines.append(f"  - unsupported: {_md(', '.join(r.unsupported))}")
        if self.baselines:
            lines += ["", "## Native baselines", "",
                      "| " + " | ".join(BASELINE_COLUMNS) + " |", "|" + "---|" * len(BASELINE_COLUMNS)]
            lines += ["| " + " | ".join(_md(c) for c in cells) + " |" for cells in self.baseline_rows()]
        lines += ["", "## Notes", ""] + [f"- {_md(n)}" for n in self.all_notes()]
        return "\n".join(lines) + "\n"

    def all_notes(self) -> list[str]:
        notes = list(self.notes)
        if charts_unavailable():
            notes.append(f"no PNG charts: {charts_unavailable()}")
        if self.gpu_note:
            notes.append(f"columns {', '.join(GPU_COLUMNS)} need a GPU that can run the engines: "
                         f"{self.gpu_note}")
        return notes

    def rich_tables(self) -> list[Any]:
        """Compact terminal tables: failure reasons go in a list under them (see ``print``)."""
        from rich.table import Table

        from rich.text import Text

        def plain(cells: Any) -> list[Any]:  # names, paths and reasons are never rich markup
            return [Text(c) if isinstance(c, str) else c for c in cells]

        table = Table(title=Text(self.title), title_justify="left")
        for column in TERMINAL_COLUMNS:
            table.add_column(column, overflow="fold")
        shared = self.gpu_note
        for row in self.rows:
            style = None if row.ok else ("red" if row.status == "failed" else "yellow")
            table.add_row(*plain(_terminal_cells(row, shared)), style=style)
        tables = [table]
        if self.baselines:
            base = Table(title="native baselines (source framework)", title_justify="left")
            for column in BASELINE_COLUMNS:
                base.add_column(column, overflow="fold")
            for cells in self.baseline_rows():
                base.add_row(*plain(cells))
            tables.append(base)
        return tables

    def print(self, console: Any = None) -> None:
        if console is None:
            from rich.console import Console

            console = Console()
        for table in self.rich_tables():
            console.print(table)
        for row in self.rows:
            if not row.ok:
                text = f"{row.model} / {row.route} / {row.precision} {row.status}: {row.reason}"
                if row.unsupported:
                    ops = [_short(op, 160) for op in row.unsupported]
                    text += f" [unsupported: {'; '.join(ops)}]"
                console.print(f"• {text}", highlight=False, markup=False)
        for note in self.all_notes():
            console.print(f"• {note}", highlight=False, markup=False)

    def accuracy_chart_png(self) -> bytes | None:
        """Bar chart of accuracy change vs the source model, or None when nothing has one."""
        rows = [r for r in self.rows if r.accuracy_delta is not None]
        if not rows:
            return None
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(rows) + 2), 4.0))
        labels = [f"{r.model}\n{r.route}\n{r.precision}" for r in rows]
        values = [r.accuracy_delta * 100 for r in rows]
        colors = ["tab:green" if v >= -0.5 else "tab:orange" if v >= -2 else "tab:red" for v in values]
        ax.bar(range(len(rows)), values, color=colors)
        for i, (row, value) in enumerate(zip(rows, values)):
            ax.annotate(f"{value:+.2f}\n({row.accuracy * 100:.1f}%)", (i, value), ha="center",
                        va="bottom" if value >= 0 else "top", fontsize=7,
                        xytext=(0, 3 if value >= 0 else -3), textcoords="offset points")
        ax.axhline(0, color="black", linewidth=0.8)
        low, high = min(values + [0.0]), max(values + [0.0])
        ax.set_ylim(low - max(0.5, 0.25 * (high - low)), high + max(0.5, 0.25 * (high - low)))
        ax.set_xticks(range(len(rows)), labels, fontsize=7)
        ax.set_ylabel("accuracy change vs source (points)")
        ax.set_title("Accuracy change after conversion")
        return _png(fig, plt)

    def stages_chart_png(self) -> bytes | None:
        """Stacked bars of conversion time per stage, or None when no conversion succeeded."""
        rows = [r for r in self.rows if r.ok and r.stages]
        if not rows:
            return None
        plt = _pyplot()
        stages: list[str] = []
        for r in rows:
            stages += [s for s in r.stages if s not in stages]
        fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(rows) + 2), 4.0))
        bottoms = [0.0] * len(rows)
        palette = plt.get_cmap("tab20").colors  # routes add stages; tab10 would repeat colours
        for index, stage in enumerate(stages):
            values = [r.stages.get(stage, 0.0) for r in rows]
            ax.bar(range(len(rows)), values, bottom=bottoms, label=stage,
                   color=palette[index % len(palette)])
            bottoms = [b + v for b, v in zip(bottoms, values)]
        ax.set_xticks(range(len(rows)), [f"{r.model}\n{r.route}\n{r.precision}" for r in rows],
                      fontsize=7)
        ax.set_ylabel("seconds")
        ax.set_title("Conversion time per stage" + (" (cached rows show their original build)"
                                                     if any(r.cache_hit for r in rows) else ""))
        ax.legend(fontsize=7)
        return _png(fig, plt)

    def write(self, directory: str | Path) -> dict[str, Path]:
        """Write JSON, Markdown and the charts into ``directory`` atomically; returns the paths."""
        root = Path(directory).expanduser()
        written = {
            "json": atomic_write_text(root / JSON_NAME, self.to_json()),
            "markdown": atomic_write_text(root / MARKDOWN_NAME, self.to_markdown()),
        }
        if charts_unavailable():
            log.warning("no charts: %s", charts_unavailable())
            return written
        for key, name, png in (("accuracy_chart", ACCURACY_CHART, self.accuracy_chart_png()),
                               ("stages_chart", STAGES_CHART, self.stages_chart_png())):
            if png is not None:
                written[key] = atomic_write_bytes(root / name, png)
            elif (root / name).exists():
                (root / name).unlink()  # a stale chart from an earlier run would mislead
        log.info("report written to %s", root)
        return written


COLUMNS = ("model", "route", "precision", "status", "convert (stages)", "engine", "layers",
           "numerics vs source", "accuracy (Δ)") + GPU_COLUMNS
BASELINE_COLUMNS = ("model", "framework", "device", "batch", "latency (median)",
                    "throughput (median ± s.e.)", "accuracy")


TERMINAL_COLUMNS = ("model", "route", "prec", "status", "convert", "MB", "layers", "numerics",
                    "acc (Δ pts)", "GPU ms", "GPU /s")


def _terminal_cells(row: Row, shared_gpu_note: str | None) -> list[str]:
    convert = _fmt_seconds(row.convert_seconds) if row.convert_seconds is not None else ""
    status = row.status + (" (cached)" if row.cache_hit else "")
    mb = f"{row.engine_bytes / 1e6:.2f}" if row.engine_bytes is not None else ""
    layers = str(row.layers) if row.layers is not None else ""
    if not row.ok:
        return [row.model, row.route, row.precision, status, convert, mb, layers, "", "", "", ""]
    n = row.numerics
    if n:
        verdict = {True: "pass, ", False: "FAIL, "}.get(n.get("passed"), "")
        numerics = f"{verdict}rel {n['max_rel']:.1e}"
        if n.get("top1") is not None:
            numerics += f", top-1 {n['top1'] * 100:.0f}%"
    else:
        numerics = _short(row.numerics_note or "n/a")
    if row.accuracy is not None:
        accuracy = f"{row.accuracy * 100:.1f}%" + (
            f" ({row.accuracy_delta * 100:+.1f})" if row.accuracy_delta is not None else "")
    else:
        accuracy = "n/a" if row.accuracy_note else ""
    if row.gpu:
        gpu = [f"{row.gpu['latency_median'] * 1e3:.3f}", f"{row.gpu['fps_median']:.0f}"]
    else:
        shared = bool(shared_gpu_note and row.gpu_note and shared_gpu_note in row.gpu_note)
        gpu = ["n/a" if shared else _short(row.gpu_note or "n/a"), "n/a"]
    return [row.model, row.route, row.precision, status, convert, mb, layers, numerics, accuracy, *gpu]


TERMINAL_CELL_CHARS = 60


def _short(text: str, limit: int = TERMINAL_CELL_CHARS) -> str:
    """First line, cut to ``limit`` characters (the JSON and Markdown keep the whole text)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _fmt_seconds(value: float) -> str:
    return f"{value:.2f}s" if value >= 0.01 else f"{value * 1e3:.1f}ms"


def _cells(row: Row, shared_gpu_note: str | None = None) -> list[str]:
    if row.status == "ok":
        status = "ok" + (" (cached)" if row.cache_hit else "")
    else:
        status = f"{row.status}: {row.reason or 'no reason given'}"
        if row.unsupported:
            status += f" [unsupported: {', '.join(row.unsupported)}]"
    convert = ""
    if row.convert_seconds is not None:
        parts = ", ".join(f"{k} {_fmt_seconds(v)}" for k, v in row.stages.items())
        convert = _fmt_seconds(row.convert_seconds) + (f" ({parts})" if parts else "")
    engine = f"{row.engine_bytes / 1e6:.2f} MB" if row.engine_bytes is not None else ""
    layers = str(row.layers) if row.layers is not None else ""
    if not row.ok:
        return [row.model, row.route, row.precision, status, convert, engine, layers, "", "", "", ""]
    return [row.model, row.route, row.precision, status, convert, engine, layers,
            _numerics_cell(row), _accuracy_cell(row), *_gpu_cells(row, shared_gpu_note)]


def _numerics_cell(row: Row) -> str:
    n = row.numerics
    if not n:
        return row.numerics_note or "n/a"
    parts = []
    if n.get("max_abs") is not None:
        parts.append(f"max abs {n['max_abs']:.2e}")
    if n.get("max_rel") is not None:
        parts.append(f"rel {n['max_rel']:.2e}")
    if n.get("cosine") is not None:
        parts.append(f"cos {n['cosine']:.6f}")
    if n.get("top1") is not None:
        parts.append(f"top-1 {n['top1'] * 100:.1f}%")
    if n.get("top5") is not None:
        parts.append(f"top-5 {n['top5'] * 100:.1f}%")
    if n.get("passed") is not None:
        parts.append("pass" if n["passed"] else "FAIL")
    if n.get("executor"):
        parts.append(f"({n['executor']})")
    return ", ".join(parts)


def _accuracy_cell(row: Row) -> str:
    if row.accuracy is None:
        return row.accuracy_note or ""
    text = f"{row.accuracy * 100:.2f}%"
    if row.accuracy_delta is not None:
        text += f" ({row.accuracy_delta * 100:+.2f})"
    return text


def _gpu_cells(row: Row, shared_note: str | None) -> list[str]:
    if not row.gpu:
        # The machine-wide reason is printed once under the table, not in every row.
        shared = bool(shared_note and row.gpu_note and shared_note in row.gpu_note)
        note = "n/a: needs a GPU (see notes)" if shared else row.gpu_note
        return [note or "n/a", "n/a"]
    g = row.gpu
    return [f"{g['latency_median'] * 1e3:.3f} ms (p99 {g['latency_p99'] * 1e3:.3f})",
            f"{g['fps_median']:.0f}/s ± {g['fps_uncertainty']:.0f}"]


def _md(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def charts_unavailable() -> str | None:
    """Why PNG charts cannot be drawn here, or None (matplotlib is an optional extra)."""
    if importlib.util.find_spec("matplotlib") is None:
        return "matplotlib is not installed (pip install 'trtforge[report]')"
    return None


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any, plt: Any) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def combine(reports: Iterable[Report], title: str | None = None) -> Report:
    combined = Report(title=title or Report.title)
    for report in reports:
        combined.extend(report)
    return combined


def load(path: str | Path) -> Report:
    return Report.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
