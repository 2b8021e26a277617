"""A synthetic SSD-MobileNet-v2 frozen graph laid out as the TF object detection API lays it
out (image_tensor, Preprocessor, FeatureExtractor, BoxPredictor_N, MultipleGridAnchorGenerator,
concat/concat_1, Postprocessor), with seeded random weights; and the seed-004 surgery steps.

Small on purpose (64x64 input, feature maps 8x8 and 4x4, 4 classes) so the whole UFF pipeline
-- surgery, TF -> UFF, UFF -> TensorRT, post-processing -- runs offline in seconds.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_uff.importer.converters.plugins import grid_anchors
from trtforge_uff.zoo.specs import MODEL_SPECS, SsdSpec

SCALE_FACTORS = (10.0, 10.0, 5.0, 5.0)  # y, x, h, w as the TF box coder uses them
OUTPUTS = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")


def anchors_yxyx(spec: SsdSpec) -> np.ndarray:
    """The priors of :func:`grid_anchors` as the TF API holds them: [P, (ymin, xmin, ymax, xmax)]."""
    layers = grid_anchors(spec.min_size, spec.max_size, list(spec.aspect_ratios), list(spec.variance),
                          list(spec.feature_maps))
    xyxy = np.concatenate([layer[0, 0, :, 0] for layer in layers]).reshape(-1, 4)
    return xyxy[:, [1, 0, 3, 2]].astype(np.float32)


def build_graph(spec: SsdSpec | str = "synthetic_ssd", seed: int = 0) -> Any:
    """The frozen GraphDef (weights as Const nodes)."""
    import tensorflow as tf

    spec = MODEL_SPECS[spec] if isinstance(spec, str) else spec
    rng = np.random.default_rng(seed)

    def w(*shape: int, scale: float = 0.3) -> Any:
        return tf.constant((rng.standard_normal(shape) * scale).astype(np.float32))

    def bn(x: Any, channels: int, name: str) -> Any:
        params = [tf.constant(v.astype(np.float32)) for v in (rng.random(channels) + 0.5, rng.standard_normal(channels) * 0.1,
                                                             rng.standard_normal(channels) * 0.1, rng.random(channels) + 0.5)]
        return tf.raw_ops.FusedBatchNormV3(x=x, scale=params[0], offset=params[1], mean=params[2], variance=params[3],
                                           epsilon=1e-3, is_training=False, name=name)[0]

    graph = tf.Graph()
    height, width, channels = spec.input_shape
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.float32, [1, height, width, channels], name="image_tensor")
        with tf.name_scope("Preprocessor"):
            x = tf.subtract(tf.multiply(image, 2.0 / 255.0), 1.0, name="sub")
        features = []
        with tf.name_scope("FeatureExtractor/MobilenetV2"):
            x = tf.nn.relu6(bn(tf.nn.conv2d(x, w(3, 3, channels, 16), 2, "SAME"), 16, "Conv/BatchNorm"))
            depth = 16
            size = height // 2
            for k in range(8):
                if size == spec.feature_maps[0] or (features and size == spec.feature_maps[len(features)]):
                    features.append((x, depth))
                    if len(features) == len(spec.feature_maps):
                        break
                stride = 2 if size > spec.feature_maps[-1] else 1
                y = tf.nn.depthwise_conv2d(x, w(3, 3, depth, 1), [1, stride, stride, 1], "SAME")
                y = tf.nn.relu6(bn(y, depth, f"expanded_conv_{k}/depthwise/BatchNorm"))
                x = tf.nn.conv2d(y, w(1, 1, depth, depth + 8), 1, "SAME")
                depth += 8
                size //= stride
        locs, confs = [], []
        for index, ((feature, depth), boxes) in enumerate(zip(features, spec.boxes_per_location)):
            with tf.name_scope(f"BoxPredictor_{index}"):
                loc = tf.nn.bias_add(tf.nn.conv2d(feature, w(1, 1, depth, boxes * 4, scale=0.1), 1, "SAME"),
                                     w(boxes * 4, scale=0.1), name="BoxEncodingPredictor/BiasAdd")
                conf = tf.nn.bias_add(tf.nn.conv2d(feature, w(1, 1, depth, boxes * spec.num_classes), 1, "SAME"),
                                      w(boxes * spec.num_classes), name="ClassPredictor/BiasAdd")
                locs.append(tf.reshape(loc, [1, -1, 1, 4], name="Reshape"))
                confs.append(tf.reshape(conf, [1, -1, spec.num_classes], name="Reshape_1"))
        loc = tf.concat(locs, axis=1, name="concat")
        conf = tf.concat(confs, axis=1, name="concat_1")
        anchors_all = anchors_yxyx(spec)
        with tf.name_scope("MultipleGridAnchorGenerator"):
            parts, start = [], 0
            for index, (size, boxes) in enumerate(zip(spec.feature_maps, spec.boxes_per_location)):
                count = size * size * boxes
                parts.append(tf.identity(tf.constant(anchors_all[start:start + count]), name=f"anchors_{index}"))
                start += count
            anchors = tf.concat(parts, axis=0, name="Concatenate/concat")
        with tf.name_scope("Postprocessor"):
            codes = tf.squeeze(loc, [2], name="Squeeze")[0]  # loc first, then priors, then conf
            ycenter_a = (anchors[:, 0] + anchors[:, 2]) / 2
            xcenter_a = (anchors[:, 1] + anchors[:, 3]) / 2
            ha, wa = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
            scores = tf.sigmoid(conf, name="convert_scores")[0]
            ty, tx, th, tw = [codes[:, i] / SCALE_FACTORS[i] for i in range(4)]
            yc, xc = ty * ha + ycenter_a, tx * wa + xcenter_a
            hh, ww = tf.exp(th) * ha / 2, tf.exp(tw) * wa / 2
            boxes = tf.stack([yc - hh, xc - ww, yc + hh, xc + ww], axis=1)
            nms = tf.image.combined_non_max_suppression(
                boxes[None, :, None, :], scores[None, :, 1:], max_output_size_per_class=spec.top_k,
                max_total_size=spec.keep_top_k, iou_threshold=spec.nms_threshold,
                score_threshold=spec.confidence_threshold, clip_boxes=False)
            classes = tf.add(nms.nmsed_classes, 1.0, name="classes")
            count = tf.cast(nms.valid_detections, tf.float32, name="count")
        tf.identity(nms.nmsed_boxes, name="detection_boxes")
        tf.identity(nms.nmsed_scores, name="detection_scores")
        tf.identity(classes, name="detection_classes")
        tf.identity(count, name="num_detections")
    return graph.as_graph_def()


def plugin_graph(graph_def: Any, spec: SsdSpec | str = "synthetic_ssd") -> Any:
    """Seed 004's graphsurgeon steps: namespaces -> Input, GridAnchor_TRT, FlattenConcat_TRT x2,
    concat_priorbox, NMS_TRT; the TF outputs removed, so ``NMS`` is the output."""
    import tensorflow as tf

    from trtforge_uff import surgery as gs

    spec = MODEL_SPECS[spec] if isinstance(spec, str) else spec
    height, width, channels = spec.input_shape
    graph = gs.DynamicGraph(graph_def)
    inputs = gs.create_plugin_node("Input", op="Placeholder", dtype=tf.float32, shape=[1, height, width, channels])
    prior_box = gs.create_plugin_node(
        "GridAnchor", op="GridAnchor_TRT", minSize=spec.min_size, maxSize=spec.max_size,
        aspectRatios=list(spec.aspect_ratios), variance=list(spec.variance),
        featureMapShapes=list(spec.feature_maps), numLayers=len(spec.feature_maps))
    nms = gs.create_plugin_node(
        "NMS", op="NMS_TRT", shareLocation=1, varianceEncodedInTarget=0, backgroundLabelId=0,
        confidenceThreshold=spec.confidence_threshold, nmsThreshold=spec.nms_threshold, topK=spec.top_k,
        keepTopK=spec.keep_top_k, numClasses=spec.num_classes, inputOrder=list(spec.input_order),
        confSigmoid=1, isNormalized=1)
    concat_priorbox = gs.create_node("concat_priorbox", op="ConcatV2", dtype=tf.float32, axis=2)
    concat_box_loc = gs.create_plugin_node("concat_box_loc", op="FlattenConcat_TRT", dtype=tf.float32,
                                           axis=1, ignoreBatch=0)
    concat_box_conf = gs.create_plugin_node("concat_box_conf", op="FlattenConcat_TRT", dtype=tf.float32,
                                            axis=1, ignoreBatch=0)
    graph.collapse_namespaces({
        "MultipleGridAnchorGenerator": prior_box, "Postprocessor": nms, "Preprocessor": inputs,
        "image_tensor": inputs, "MultipleGridAnchorGenerator/Concatenate": concat_priorbox,
        "concat": concat_box_loc, "concat_1": concat_box_conf})
    graph.remove(graph.graph_outputs, remove_exclusive_dependencies=False)
    # One input per GridAnchor layer output (collapsing leaves the multi-output plugin once).
    priorbox = graph.find_nodes_by_name("concat_priorbox")[0]
    del priorbox.input[:]
    priorbox.input.extend(["GridAnchor"] + [f"GridAnchor:{k}" for k in range(1, len(spec.feature_maps))])
    return graph.as_graph_def()


def nms_inputs(plugin_graph_def: Any) -> list[str]:
    """The NMS node's inputs (loc, conf, priors in ``input_order``)."""
    return [n for n in plugin_graph_def.node if n.op == "NMS_TRT"][0].input[:]
