#!/usr/bin/env python
"""Seed 004's ``build_engine.py`` steps, one to one, on TensorRT without UFF (e.g. TensorRT-RTX).

    original (TensorRT <= 8, NVIDIA uff/graphsurgeon)     here
    ----------------------------------------------------  -----------------------------------------
    import graphsurgeon as gs                              from trtforge_uff import surgery as gs
    gs.DynamicGraph(frozen_pb)                             gs.DynamicGraph(graph_def)
    gs.create_plugin_node(..., op="GridAnchor_TRT", ...)   the same (trtforge_uff.zoo.ssd.plugin_graph)
    graph.collapse_namespaces(namespace_plugin_map)        the same
    uff.from_tensorflow(graph, ["NMS"], text=True)         graphdef_to_uff(...) + io.write(.uff/.pbtxt)
    trt.UffParser(); register_input/output; parse          trtforge_uff.UffParser (same calls)
    builder.build_cuda_engine(network)                     trtforge.convert("model.uff", backend="uff")

The synthetic SSD (``MODEL_SPECS["synthetic_ssd"]``) stands in for the downloaded frozen graph.
Usage: ``python build_engine_ssd.py OUT_DIR [--target sm89]``; writes model.uff, model.pbtxt and
the engine (a program folder where NMS_TRT runs on the host).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="seed 004's SSD build, offline")
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="synthetic_ssd", help="a MODEL_SPECS entry")
    parser.add_argument("--target", default=None, help="GPU to build for (needed without a GPU), e.g. sm89")
    args = parser.parse_args(argv)

    import trtforge
    from trtforge.errors import UnsupportedOperationsError
    from trtforge.tensorrt.trt import get_tensorrt

    from trtforge_uff import UffParser
    from trtforge_uff.format import io
    from trtforge_uff.tf2uff.convert import graphdef_to_uff
    from trtforge_uff.zoo import ssd
    from trtforge_uff.zoo.specs import MODEL_SPECS

    spec = MODEL_SPECS[args.model]
    args.out.mkdir(parents=True, exist_ok=True)
    frozen = ssd.build_graph(spec)  # the frozen_inference_graph.pb of the original
    dynamic_graph = ssd.plugin_graph(frozen, spec)  # collapse_namespaces + remove(graph_outputs)
    uff_model = graphdef_to_uff(dynamic_graph, ["Input"], ["NMS"]).meta
    uff_path = io.write(uff_model, args.out / "model.uff")
    io.write(uff_model, args.out / "model.pbtxt")  # uff.from_tensorflow(..., text=True)

    # The original's parser calls, unchanged:
    tensorrt = get_tensorrt()
    network = tensorrt.create_network()
    uff_parser = UffParser()
    height, width, channels = spec.input_shape
    uff_parser.register_input("Input", (channels, height, width))  # CHW, transposed inside
    uff_parser.register_output("MarkOutput_0")
    try:
        uff_parser.parse(str(uff_path), network)
        print(f"UffParser: {network.num_layers} layers")
    except UnsupportedOperationsError as exc:
        print(f"UffParser: {exc.message}")  # NMS_TRT where this TensorRT has no plugin

    # The engine: a program (engine + host NMS) where NMS_TRT cannot be built.
    built = trtforge.convert(uff_path, backend="uff", target=args.target, cache=False)
    saved = built.save(args.out / ("model.program" if hasattr(built, "stages") else "model.engine"))
    print(f"wrote {uff_path}, {args.out / 'model.pbtxt'}, {saved or args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
