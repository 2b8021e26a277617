"""The encoding NVIDIA's UFF converter writes and TensorRT 8.6's UffParser expects (issue 13):
node ids only as inputs (a multi-output plugin node referenced once by its bare id), VALID
padding as no padding field, Softmax with inputs_orders, depthwise filters as TF's [H, W, C, M]."""

from __future__ import annotations

import numpy as np
import pytest

from trtforge_uff.format import validate
from trtforge_uff.format.builder import UffBuilder, nvidia_inputs, output_counts
from trtforge_uff.format.graph import UffGraph


def _grid_anchor_graph(references: list[str]) -> UffBuilder:
    b = UffBuilder()
    b.input("Input", [1, 8, 8, 3])
    b.plugin("GridAnchor", "GridAnchor_TRT", [], {"numLayers_u_int": 2})
    b.concat("concat_priorbox", references, 2)
    b.mark_output("concat_priorbox")
    return b


def _inputs(meta, node_id: str) -> list[str]:
    return next(list(n.inputs) for n in meta.graphs[0].nodes if n.id == node_id)


@pytest.mark.parametrize("references", [["GridAnchor", "GridAnchor:1"], ["GridAnchor:0", "GridAnchor:1"]])
def test_consumer_of_all_grid_anchor_outputs_references_the_bare_id(references):
    meta = _grid_anchor_graph(references).meta()
    assert _inputs(meta, "concat_priorbox") == ["GridAnchor"]
    assert not any(":" in i for n in meta.graphs[0].nodes for i in n.inputs)
    assert validate.problems(meta) == []


def test_partial_or_core_multi_output_references_are_kept():
    plugin_ids = {"GridAnchor"}
    arity = output_counts(["GridAnchor", "GridAnchor:1", "GridAnchor:2"])
    assert arity["GridAnchor"] == 3
    assert nvidia_inputs(["GridAnchor", "GridAnchor:1"], plugin_ids, arity) == ["GridAnchor", "GridAnchor:1"]
    assert nvidia_inputs(["split", "split:1"], plugin_ids, output_counts(["split:1"])) == ["split", "split:1"]


def test_valid_padding_is_no_padding_field_and_conv_groups_only_when_grouped():
    b = UffBuilder()
    b.input("x", [1, 8, 8, 3])
    w = b.const("w", np.zeros((3, 3, 3, 4), np.float32))
    b.conv("conv", "x", w, strides=[1, 1], padding="valid", dilation=[1, 1])
    b.pool("pool", "conv", "max", kernel=[2, 2], strides=[2, 2], padding="VALID", data_order="N+C")
    b.conv("same", "pool", w := b.const("w2", np.zeros((3, 3, 4, 1), np.float32)), strides=[1, 1],
           padding="same", groups=4)
    b.mark_output("same")
    meta = b.meta()
    nodes = {n.id: n for n in meta.graphs[0].nodes}
    for name in ("conv", "pool"):
        assert "implicit_padding" not in nodes[name].fields and "padding" not in nodes[name].fields
    assert "number_groups" not in nodes["conv"].fields
    assert nodes["same"].fields["implicit_padding"].s == "same"
    assert nodes["same"].fields["number_groups"].i == 4
    validate.require_valid(meta, "nvidia.uff")


def test_softmax_axis_counts_channels_first_without_batch():
    from trtforge_uff.importer.converters.reduce import softmax_axis

    b = UffBuilder()
    b.input("x", [1, 5, 5, 7])
    b.softmax("sm", "x", axis=0, data_order="N+C")
    b.softmax("old", "x", axis=-1)
    b.mark_output("sm")
    b.mark_output("old")
    nodes = UffGraph.of(b.meta()).by_id()
    assert nodes["sm"].raw_fields["inputs_orders"].key == "orders_N+C"
    assert softmax_axis(nodes["sm"], 4) == 3 and softmax_axis(nodes["sm"], 2) == 1
    assert softmax_axis(nodes["old"], 4) == 3


def test_tf_writer_speaks_nvidia_uff():
    tf = pytest.importorskip("tensorflow")
    from trtforge_uff.tf2uff.convert import graphdef_to_uff

    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, 8, 8, 3], name="input")
        y = tf.nn.depthwise_conv2d(x, tf.constant(np.ones((3, 3, 3, 2), np.float32)), [1, 1, 1, 1], "SAME")
        y = tf.nn.max_pool2d(y, 2, 2, "VALID")
        y = tf.nn.softmax(tf.reshape(y, [1, -1]), name="prob")
    meta = graphdef_to_uff(graph.as_graph_def(), ["input"], ["prob"]).meta
    nodes = {n.id: n for n in meta.graphs[0].nodes}
    dw = next(n for n in nodes.values() if n.operation == "Conv")
    assert dw.fields["number_groups"].i == 3
    assert list(nodes[dw.inputs[1]].fields["shape"].i_list.val) == [3, 3, 3, 2]  # TF's filter as it is
    pool = next(n for n in nodes.values() if n.operation == "Pool")
    assert "implicit_padding" not in pool.fields
    assert nodes["prob"].fields["axis"].i == 0 and nodes["prob"].fields["inputs_orders"].ref == "orders_N+C"
