"""Plugin nodes of SSD-style graphs: GridAnchor_TRT (priors computed here, as constants),
FlattenConcat_TRT (shuffles + concatenation), NMS_TRT (TensorRT's plugin where the installed
TensorRT has it; refused with the reason elsewhere, so coverage reports it up front).

Fields carry graphsurgeon's ``_u_*`` suffixes (``minSize_u_float``, ``featureMapShapes_u_ilist``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from trtforge_uff.importer.network import ImportContext
from trtforge_uff.importer.registry import converter


def plugin_field(node: Any, name: str, default: Any = None) -> Any:
    for suffix in ("_u_int", "_u_float", "_u_ilist", "_u_flist", "_u_str", "_u_bool", ""):
        if name + suffix in node.fields:
            return node.fields[name + suffix]
    return default


def grid_anchors(
    min_size: float,
    max_size: float,
    aspect_ratios: list[float],
    variance: list[float],
    feature_maps: list[int],
) -> list[np.ndarray]:
    """Per layer a [1, 2, H*W*boxes*4, 1] array: normalised (xmin, ymin, xmax, ymax) priors, then
    their variances -- the layout of TensorRT's GridAnchor_TRT plugin.

    Scales run linearly from ``min_size`` to ``max_size`` over the layers; the first layer has
    three boxes (scale 0.1 ratio 1, ``min_size`` ratios 2 and 0.5), the others one per aspect
    ratio plus a ratio-1 box of scale sqrt(s_i * s_{i+1}) (TF's SSD anchor generator).
    """
    layers = len(feature_maps)
    scales = [min_size + (max_size - min_size) * i / max(layers - 1, 1) for i in range(layers)] + [1.0]
    out = []
    for index, size in enumerate(feature_maps):
        if index == 0:
            boxes = [(0.1, 1.0), (scales[0], 2.0), (scales[0], 0.5)]
        else:
            boxes = [(scales[index], ar) for ar in aspect_ratios]
            boxes.append((math.sqrt(scales[index] * scales[index + 1]), 1.0))
        wh = np.array([[s * math.sqrt(ar), s / math.sqrt(ar)] for s, ar in boxes], dtype=np.float32)
        step = 1.0 / size
        ys, xs = np.meshgrid((np.arange(size) + 0.5) * step, (np.arange(size) + 0.5) * step, indexing="ij")
        centers = np.stack([xs, ys], axis=-1).reshape(-1, 1, 2).astype(np.float32)  # [HW, 1, (x, y)]
        priors = np.concatenate([centers - wh / 2, centers + wh / 2], axis=-1)  # [HW, boxes, 4]
        flat = priors.reshape(-1)
        var = np.tile(np.asarray(variance, dtype=np.float32), flat.size // 4)
        out.append(np.stack([flat, var]).reshape(1, 2, -1, 1).astype(np.float32))
    return out


@converter("_GridAnchor_TRT", "_GridAnchorRect_TRT")
def grid_anchor(ctx: ImportContext, node: Any, inputs: list[Any]) -> list[Any]:
    shapes = [int(s) for s in plugin_field(node, "featureMapShapes", [])]
    layers = int(plugin_field(node, "numLayers", len(shapes)))
    if len(shapes) != layers:
        raise ctx.error(f"featureMapShapes has {len(shapes)} entries, numLayers is {layers}")
    priors = grid_anchors(
        float(plugin_field(node, "minSize", 0.2)),
        float(plugin_field(node, "maxSize", 0.95)),
        [float(a) for a in plugin_field(node, "aspectRatios", [1.0, 2.0, 0.5, 3.0, 0.33])],
        [float(v) for v in plugin_field(node, "variance", [0.1, 0.1, 0.2, 0.2])],
        shapes,
    )
    return priors  # numpy constants: a Concat of them folds, a network output becomes a constant layer


@converter("_FlattenConcat_TRT")
def flatten_concat(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    """Each input flattened per batch item, concatenated: [N, sum(C*H*W), 1, 1]."""
    axis = int(plugin_field(node, "axis", 1))
    if axis != 1:
        raise ctx.error(f"FlattenConcat axis {axis}: only axis 1 (the plugin's default) is supported")
    like = next((v for v in inputs if ctx.is_tensor(v)), None)
    if like is None:
        flat = [np.asarray(v).reshape(np.asarray(v).shape[0], -1) for v in inputs]
        joined = np.concatenate(flat, axis=1)
        return joined.reshape(joined.shape[0], -1, 1, 1)
    parts = []
    for k, value in enumerate(inputs):
        t = ctx.tensor(value, ctx.sub(f"input{k}"), like)
        shape = ctx.shape(t)
        batch = shape[0]
        rest = int(np.prod(shape[1:]))
        parts.append(
            ctx.shuffle(
                t, dims=[0 if batch < 0 else batch, rest], copy_zeros=batch < 0, name=ctx.sub(f"flatten{k}")
            )
        )
    layer = ctx.network.add_concatenation(parts)
    layer.axis = 1
    joined = ctx.finish(layer, ctx.sub("concat"))
    total = int(joined.shape[1])
    return ctx.shuffle(joined, dims=[0, total, 1, 1], copy_zeros=True)


NMS_FIELDS = {  # graphsurgeon field -> (plugin field, kind)
    "shareLocation": "int",
    "varianceEncodedInTarget": "int",
    "backgroundLabelId": "int",
    "numClasses": "int",
    "topK": "int",
    "keepTopK": "int",
    "confidenceThreshold": "float",
    "nmsThreshold": "float",
    "inputOrder": "ints",
    "confSigmoid": "int",
    "isNormalized": "int",
    "codeType": "int",
    "scoreBits": "int",
}


def _nms_available(node: Any, graph: Any) -> bool | str:
    from trtforge.tensorrt.trt import get_tensorrt

    tensorrt = get_tensorrt()
    if tensorrt.facts.is_rtx:
        return (
            "TensorRT-RTX ships no NMS_TRT plugin and its NMS layer does not build ahead of time "
            "on CPU: this post-processing cannot run inside the engine"
        )
    if _creator(tensorrt, "NMSDynamic_TRT") is None and _creator(tensorrt, "NMS_TRT") is None:
        return f"{tensorrt.facts.label} has no NMS_TRT plugin in its registry (load libnvinfer_plugin)"
    return True


def _creator(tensorrt: Any, name: str) -> Any:
    trt = tensorrt.module
    init = getattr(trt, "init_libnvinfer_plugins", None)
    if init is not None:
        init(tensorrt.trt_logger, "")
    registry = trt.get_plugin_registry()
    return registry.get_plugin_creator(name, "1", "")


@converter("_NMS_TRT", validator=_nms_available)
def nms(ctx: ImportContext, node: Any, inputs: list[Any]) -> list[Any]:
    """TensorRT's NMS_TRT plugin (TensorRT 8.x/10 with libnvinfer_plugin): outputs
    detections [N, 1, keepTopK, 7] and the kept count [N, 1, 1, 1]."""
    trt = ctx.trt
    fields = []
    for name, kind in NMS_FIELDS.items():
        value = plugin_field(node, name)
        if value is None:
            continue
        if kind == "ints":
            array = np.asarray(value, dtype=np.int32)
            fields.append(trt.PluginField(name, array, trt.PluginFieldType.INT32))
        elif kind == "float":
            array = np.asarray([value], dtype=np.float32)
            fields.append(trt.PluginField(name, array, trt.PluginFieldType.FLOAT32))
        else:
            array = np.asarray([int(value)], dtype=np.int32)
            fields.append(trt.PluginField(name, array, trt.PluginFieldType.INT32))
        ctx.keepalive.append(array)
    # The dynamic variant takes explicit-batch inputs; NMS_TRT is the implicit-batch original.
    creator = _creator(ctx.tensorrt, "NMSDynamic_TRT") or _creator(ctx.tensorrt, "NMS_TRT")
    plugin = creator.create_plugin(node.id, trt.PluginFieldCollection(fields))
    tensors = []
    for k, value in enumerate(inputs):
        t = ctx.tensor(value, ctx.sub(f"input{k}"))
        tensors.append(t)
    layer = ctx.network.add_plugin_v2(tensors, plugin)
    detections = ctx.finish(layer, node.id, 0)
    count = layer.get_output(1)
    count.name = ctx.unique(f"{node.id}:1")
    return [detections, count]
