"""Graph surgery on GraphDefs: graphsurgeon's operations, seed 004's steps."""
from __future__ import annotations

import pytest

tf = pytest.importorskip("tensorflow")

from trtforge_uff import surgery as gs  # noqa: E402


def small_graph():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, 4], name="x")
        with tf.name_scope("block"):
            a = tf.nn.relu(x, name="relu")
            b = tf.multiply(a, 2.0, name="mul")
        c = tf.identity(b, name="ident")
        tf.add(c, x, name="out")
    return graph.as_graph_def()


def test_create_plugin_node_attributes():
    node = gs.create_plugin_node("NMS", op="NMS_TRT", topK=100, nmsThreshold=0.6, inputOrder=[0, 2, 1],
                                 variance=[0.1, 0.2], isNormalized=True, name_u="x", dtype=tf.float32,
                                 shape=[1, 3, 300, 300])
    assert node.op == "NMS_TRT" and node.attr["topK"].i == 100
    assert node.attr["nmsThreshold"].f == pytest.approx(0.6)
    assert list(node.attr["inputOrder"].list.i) == [0, 2, 1]
    assert list(node.attr["variance"].list.f) == pytest.approx([0.1, 0.2])
    assert node.attr["isNormalized"].b and node.attr["name_u"].s == b"x"
    assert node.attr["dtype"].type == tf.float32.as_datatype_enum
    assert [d.size for d in node.attr["shape"].shape.dim] == [1, 3, 300, 300]


def test_collapse_namespace_rewires_inputs_and_readers():
    graph = gs.DynamicGraph(small_graph())
    plugin = gs.create_plugin_node("Block", op="Block_TRT", alpha=1.0)
    graph.collapse_namespaces({"block": plugin})
    nodes = {n.name: n for n in graph.as_graph_def().node}
    assert "block/relu" not in nodes and "block/mul" not in nodes
    assert list(nodes["Block"].input) == ["x"]
    assert list(nodes["ident"].input) == ["Block"]
    assert [n.name for n in graph.find_nodes_by_op("Block_TRT")] == ["Block"]


def test_longest_namespace_wins_and_merged_namespaces():
    graph = gs.DynamicGraph(small_graph())
    inner = gs.create_node("inner", op="Identity")
    outer = gs.create_plugin_node("outer", op="Outer_TRT")
    graph.collapse_namespaces({"block": outer, "block/mul": inner, "x": outer})
    nodes = {n.name: n for n in graph.as_graph_def().node}
    assert list(nodes["inner"].input) == ["outer"]
    assert list(nodes["outer"].input) == []  # x is merged into it
    assert list(nodes["out"].input) == ["ident", "outer"]


def test_remove_and_forward_inputs():
    graph = gs.DynamicGraph(small_graph())
    assert [n.name for n in graph.graph_outputs] == ["out"]
    graph.forward_inputs(graph.find_nodes_by_name("ident"))
    nodes = {n.name: n for n in graph.as_graph_def().node}
    assert "ident" not in nodes and list(nodes["out"].input) == ["block/mul", "x"]
    graph.remove(graph.find_nodes_by_path("block"))
    assert list({n.name: n for n in graph.nodes}["out"].input) == ["x"]
    graph2 = gs.DynamicGraph(small_graph())
    graph2.remove(["out"], remove_exclusive_dependencies=True)
    assert [n.name for n in graph2.nodes] == []  # x fed only what was removed


def test_ssd_surgery_matches_the_seed_layout():
    from trtforge_uff.zoo import ssd

    plugin = ssd.plugin_graph(ssd.build_graph())
    nodes = {n.name: n for n in plugin.node}
    assert nodes["Input"].op == "Placeholder" and not nodes["Input"].input
    assert nodes["NMS"].op == "NMS_TRT" and list(nodes["NMS"].input) == [
        "concat_box_loc", "concat_priorbox", "concat_box_conf"]
    assert list(nodes["NMS"].attr["inputOrder"].list.i) == [0, 2, 1]
    assert list(nodes["concat_priorbox"].input) == ["GridAnchor", "GridAnchor:1"]
    assert list(nodes["concat_box_loc"].input) == ["BoxPredictor_0/Reshape", "BoxPredictor_1/Reshape"]
    assert not any(n.startswith(("Postprocessor", "Preprocessor", "MultipleGridAnchorGenerator/", "detection_"))
                   for n in nodes)
