#!/usr/bin/env python
"""Make the UFF route's GPU fixtures here, where TensorFlow is (the GPU machine has none).

Writes into ``OUT`` (default ``.uff-fixtures/`` in the repository, ignored by git, carried to
the GPU machine with ``carry: [".uff-fixtures"]``):

- ``convnet.uff`` (+ ``.pbtxt``): a TF1 graph with Conv2D/BiasAdd/FusedBatchNormV3/Relu6/
  DepthwiseConv2dNative/MaxPool/AvgPool/Mean/MatMul/Softmax, written by our TF -> UFF writer;
- ``ssd.uff`` (+ ``.pbtxt``): the synthetic SSD after seed 004's surgery, output ``NMS``;
- ``ssd_heads.uff``: the same graph with the NMS inputs as outputs (``concat_box_loc``,
  ``concat_box_conf``, ``concat_priorbox``): GridAnchor and FlattenConcat compared alone;
- ``inputs.npz`` / ``expected.npz``: seeded inputs and TensorFlow's outputs for them;
- ``manifest.json``: names, shapes, the SSD spec, versions and SHA-256 of every file.

Usage: ``.venv/bin/python tests/gpu/make_uff_fixtures.py [--out DIR]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / ".uff-fixtures"
FORMAT = "trtforge-uff-gpu-fixtures"
SEED = 20261203


def convnet_graph(seed: int):
    import tensorflow as tf

    rng = np.random.default_rng(seed)

    def w(*shape):
        return tf.constant((rng.standard_normal(shape) * 0.3).astype(np.float32))

    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, 32, 32, 3], name="input")
        y = tf.nn.bias_add(tf.nn.conv2d(x, w(3, 3, 3, 16), 2, "SAME"), w(16))
        positive = [tf.constant((rng.random(16) + 0.5).astype(np.float32)) for _ in range(2)]
        y = tf.raw_ops.FusedBatchNormV3(
            x=y,
            scale=positive[0],
            offset=w(16),
            mean=w(16),
            variance=positive[1],
            epsilon=1e-3,
            is_training=False,
        )[0]
        y = tf.nn.relu6(y)
        y = tf.nn.depthwise_conv2d(y, w(3, 3, 16, 1), [1, 1, 1, 1], "SAME")
        y = tf.nn.max_pool2d(tf.nn.relu(y), 2, 2, "VALID")
        y = tf.nn.avg_pool2d(tf.nn.conv2d(y, w(1, 1, 16, 24), 1, "SAME"), 3, 1, "SAME")
        y = tf.reduce_mean(y, [1, 2])
        y = tf.nn.softmax(tf.matmul(y, w(24, 10)), name="prob")
    return graph.as_graph_def()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    import tensorflow as tf

    from trtforge.verify.checking import FrozenGraphRunner

    from trtforge_uff.format import io, validate
    from trtforge_uff.tf2uff.convert import graphdef_to_uff
    from trtforge_uff.zoo import ssd
    from trtforge_uff.zoo.specs import MODEL_SPECS

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    inputs, expected, files = {}, {}, {}

    conv = convnet_graph(SEED)
    meta = graphdef_to_uff(conv, ["input"], ["prob"]).meta
    validate.require_valid(meta, "convnet.uff")
    io.write(meta, out / "convnet.uff"), io.write(meta, out / "convnet.pbtxt")
    inputs["convnet/input"] = rng.standard_normal((1, 32, 32, 3)).astype(np.float32)
    expected["convnet/prob"] = FrozenGraphRunner(conv).fetch({"input": inputs["convnet/input"]}, ["prob"])[0]

    spec = MODEL_SPECS["synthetic_ssd"]
    graph_def = ssd.build_graph(spec, seed=0)
    plugin_graph = ssd.plugin_graph(graph_def, spec)
    full = graphdef_to_uff(plugin_graph, ["Input"], ["NMS"]).meta
    heads = graphdef_to_uff(
        plugin_graph, ["Input"], ["concat_box_loc", "concat_box_conf", "concat_priorbox"]
    ).meta
    for name, value in (("ssd", full), ("ssd_heads", heads)):
        validate.require_valid(value, f"{name}.uff")
        io.write(value, out / f"{name}.uff"), io.write(value, out / f"{name}.pbtxt")
    image = rng.uniform(-1, 1, (1, *spec.input_shape)).astype(
        np.float32
    )  # preprocessed (Input = Preprocessor)
    inputs["ssd/Input"] = image
    names = ["concat", "concat_1", "MultipleGridAnchorGenerator/Concatenate/concat", *ssd.OUTPUTS]
    for name, value in zip(names, FrozenGraphRunner(graph_def).fetch({"Preprocessor/sub": image}, names)):
        expected[f"ssd/{name}"] = value
    np.savez(out / "inputs.npz", **inputs)
    np.savez(out / "expected.npz", **expected)
    for path in sorted(out.iterdir()):
        if path.name != "manifest.json":
            files[path.name] = {"bytes": path.stat().st_size, "sha256": sha256(path)}
    manifest = {
        "format": FORMAT,
        "seed": SEED,
        "tensorflow": tf.__version__,
        "python": sys.version.split()[0],
        "convnet": {"input": "input", "input_shape": [1, 32, 32, 3], "output": "prob"},
        "ssd": {
            "input": "Input",
            "spec": {
                k: getattr(spec, k)
                for k in (
                    "name",
                    "input_shape",
                    "num_classes",
                    "min_size",
                    "max_size",
                    "input_order",
                    "feature_maps",
                    "aspect_ratios",
                    "variance",
                    "nms_threshold",
                    "confidence_threshold",
                    "top_k",
                    "keep_top_k",
                )
            },
            "num_priors": spec.num_priors,
        },
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=list) + "\n")
    print(f"wrote {len(files) + 1} files to {out} ({sum(f['bytes'] for f in files.values()):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
