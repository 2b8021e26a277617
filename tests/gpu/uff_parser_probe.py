#!/usr/bin/env python
"""One-shot probe of TensorRT's own UFF parser (TensorRT 8.x, ``trt.UffParser``) on our files.

Run on the GPU machine (no TensorFlow needed: numpy, protobuf, trtforge, trtforge-uff):

    python tests/gpu/uff_parser_probe.py [FIXTURES_DIR]      # default /tmp/uff

It parses every ``*.uff`` fixture in the folder and a few minimal variants it writes itself
with our writer (``FIXTURES_DIR/probe/``): GridAnchor_TRT outputs referenced in each plausible
naming convention, a one-Conv graph, Conv + FullyConnected, Softmax forms, VALID padding forms,
depthwise filter forms, each with and without explicit MarkOutput. It prints one line per
variant: ``PROBE <name>: accepted|refused`` followed by the parser's error lines (VERBOSE log).
Where ``trt.UffParser`` is missing (TensorRT 10+, or no TensorRT) it writes the variants, says
so and exits 0.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from trtforge_uff.format import io
from trtforge_uff.format.builder import UffBuilder

# fixture -> (inputs {name: HWC shape}, outputs)
FIXTURES = {
    "convnet.uff": ({"input": (32, 32, 3)}, ["prob"]),
    "ssd_heads.uff": ({"Input": (64, 64, 3)}, ["concat_box_loc", "concat_box_conf", "concat_priorbox"]),
    "ssd.uff": ({"Input": (64, 64, 3)}, ["NMS"]),
}


def _w(*shape: int) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal(shape) * 0.1).astype(np.float32)


def _grid_anchor(b: UffBuilder, inputs: list[str]) -> None:
    b.plugin("GridAnchor", "GridAnchor_TRT", inputs, {
        "minSize_u_float": 0.2, "maxSize_u_float": 0.95, "aspectRatios_u_flist": [1.0, 2.0, 0.5],
        "variance_u_flist": [0.1, 0.1, 0.2, 0.2], "featureMapShapes_u_ilist": [4, 2], "numLayers_u_int": 2,
    })


def _raw(b: UffBuilder, rename: dict[str, list[str]]) -> Any:
    """The builder's MetaGraph with some node's inputs replaced verbatim (no NVIDIA rewrite)."""
    meta = b.meta()
    for node in meta.graphs[0].nodes:
        if node.id in rename:
            del node.inputs[:]
            node.inputs.extend(rename[node.id])
    return meta


def grid_anchor_variant(refs: list[str], anchor_inputs: list[str] = ()) -> Callable[[bool], Any]:
    def make(mark: bool) -> Any:
        b = UffBuilder()
        b.input("Input", [1, 32, 32, 3])
        _grid_anchor(b, list(anchor_inputs))
        b.concat("concat_priorbox", ["GridAnchor"], 2)
        if mark:
            b.mark_output("concat_priorbox")
        return _raw(b, {"concat_priorbox": refs})
    return make


def conv_variant(*, fc: bool = False, softmax: str | None = None, padding: str = "same",
                 depthwise: str | None = None) -> Callable[[bool], Any]:
    def make(mark: bool) -> Any:
        b = UffBuilder()
        b.input("input", [1, 8, 8, 3])
        y = "input"
        if depthwise == "nvidia":  # TF filter [H, W, C, M], groups = C
            y = b.conv("dw", y, b.const("dw_w", _w(3, 3, 3, 2)), strides=[1, 1], padding="same",
                       dilation=[1, 1], groups=3)
        elif depthwise == "grouped":  # [H, W, 1, C*M], groups = C
            y = b.conv("dw", y, b.const("dw_w", _w(3, 3, 1, 6)), strides=[1, 1], padding="same",
                       dilation=[1, 1], groups=3)
        y = b.conv("conv", y, b.const("conv_w", _w(3, 3, 6 if depthwise else 3, 4)), strides=[1, 1],
                   padding=padding, dilation=[1, 1])
        if padding == "valid_field":  # what older trtforge writers wrote
            b._nodes[-1][3]["implicit_padding"] = "valid"
        if fc:
            y = b.reduce("mean", y, "mean", [1, 2], False)
            y = b.fully_connected("fc", y, b.const("fc_w", _w(4, 5)))
        if softmax == "nvidia":
            y = b.softmax("prob", y, axis=0, data_order="N+C")
        elif softmax == "old":
            y = b.softmax("prob", y, axis=-1)
        if mark:
            b.mark_output(y)
        return b.meta()
    return make


VARIANTS: dict[str, Callable[[bool], Any]] = {
    "gridanchor_bare_once": grid_anchor_variant(["GridAnchor"]),
    "gridanchor_bare_twice": grid_anchor_variant(["GridAnchor", "GridAnchor"]),
    "gridanchor_colon1": grid_anchor_variant(["GridAnchor", "GridAnchor:1"]),
    "gridanchor_colon0_colon1": grid_anchor_variant(["GridAnchor:0", "GridAnchor:1"]),
    "gridanchor_underscore1": grid_anchor_variant(["GridAnchor", "GridAnchor_1"]),
    "gridanchor_bare_with_input": grid_anchor_variant(["GridAnchor"], ["Input"]),
    "conv_same": conv_variant(),
    "conv_valid_absent": conv_variant(padding="valid"),
    "conv_valid_field": conv_variant(padding="valid_field"),
    "conv_fc": conv_variant(fc=True),
    "conv_fc_softmax_nvidia": conv_variant(fc=True, softmax="nvidia"),
    "conv_fc_softmax_old": conv_variant(fc=True, softmax="old"),
    "depthwise_nvidia": conv_variant(depthwise="nvidia"),
    "depthwise_grouped": conv_variant(depthwise="grouped"),
}
OUTPUT_OF = {"gridanchor": "concat_priorbox", "conv_fc_softmax": "prob", "conv_fc": "fc", "conv": "conv",
             "depthwise": "conv"}
INPUT_OF = {"gridanchor": ("Input", (32, 32, 3)), "": ("input", (8, 8, 3))}


def write_variants(folder: Path) -> list[tuple[str, Path, dict, list[str]]]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name, make in VARIANTS.items():
        for mark in (True, False):
            tag = f"{name}{'' if mark else '_nomark'}"
            path = folder / f"{tag}.uff"
            meta = make(mark)
            io.write(meta, path)
            io.write(meta, path.with_suffix(".pbtxt"))
            key = next(k for k in sorted(OUTPUT_OF, key=len, reverse=True) if name.startswith(k))
            inp = INPUT_OF["gridanchor"] if name.startswith("gridanchor") else INPUT_OF[""]
            made.append((tag, path, {inp[0]: inp[1]}, [OUTPUT_OF[key]] if not mark else [OUTPUT_OF[key]]))
    return made


class Capture:
    def __init__(self, trt: Any) -> None:
        base = trt.ILogger

        class Logger(base):  # type: ignore[misc, valid-type]
            def __init__(self) -> None:
                base.__init__(self)
                self.lines: list[tuple[Any, str]] = []

            def log(self, severity: Any, msg: str) -> None:
                self.lines.append((severity, msg))

        self.logger = Logger()
        self.trt = trt

    def errors(self) -> list[str]:
        trt = self.trt
        bad = {trt.Logger.ERROR, trt.Logger.INTERNAL_ERROR, trt.Logger.WARNING}
        keep = [m for s, m in self.logger.lines if s in bad or "UFF" in m.upper() or "uff" in m]
        return keep[-12:]


def probe(trt: Any, path: Path, inputs: dict, outputs: list[str]) -> tuple[bool, list[str]]:
    cap = Capture(trt)
    cap.logger.min_severity = trt.Logger.VERBOSE
    trt.init_libnvinfer_plugins(cap.logger, "")
    builder = trt.Builder(cap.logger)
    network = builder.create_network(0)
    parser = trt.UffParser()
    for name, hwc in inputs.items():
        parser.register_input(name, hwc, trt.UffInputOrder.NHWC)
    for name in outputs:
        parser.register_output(name)
    try:
        ok = bool(parser.parse(str(path), network, trt.float32))
    except Exception as exc:  # noqa: BLE001 - the probe reports everything
        ok, cap.logger.lines = False, cap.logger.lines + [(trt.Logger.ERROR, f"{type(exc).__name__}: {exc}")]
    extra = []
    if ok:
        extra.append(f"layers={network.num_layers} outputs=" + ",".join(
            f"{network.get_output(i).name}{tuple(network.get_output(i).shape)}" for i in range(network.num_outputs)))
    return ok, extra + cap.errors()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0] if argv else "/tmp/uff")
    start = time.time()
    variants = write_variants(folder / "probe")
    print(f"PROBE wrote {len(variants)} variant files to {folder / 'probe'}")
    try:
        try:
            from trtforge.tensorrt.trt import get_tensorrt

            trt = get_tensorrt().module
        except Exception:  # noqa: BLE001 - fall back to a plain import
            import tensorrt as trt
    except ImportError as exc:
        print(f"PROBE no TensorRT here ({exc}); variants written, nothing parsed")
        return 0
    if not hasattr(trt, "UffParser"):
        print(f"PROBE TensorRT {trt.__version__} has no trt.UffParser; variants written, nothing parsed")
        return 0
    print(f"PROBE TensorRT {trt.__version__}")
    cases = [(name, folder / name, *FIXTURES[name]) for name in FIXTURES if (folder / name).is_file()]
    cases += [(f"fixture {n}: missing", None, {}, []) for n in FIXTURES if not (folder / n).is_file()]
    for tag, path, inputs, outputs in cases + variants:
        if path is None:
            print(f"PROBE {tag}")
            continue
        for outs in ([outputs] if tag.endswith(".uff") else [outputs, ["MarkOutput_0"]]):
            if not tag.endswith(".uff") and tag.endswith("_nomark") and outs == ["MarkOutput_0"]:
                continue
            ok, lines = probe(trt, path, inputs, outs)
            label = tag if tag.endswith(".uff") else f"{tag} (register_output {outs[0]})"
            print(f"PROBE {label}: {'accepted' if ok else 'refused'}")
            for line in lines:
                print(f"    {line}")
    print(f"PROBE done in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
