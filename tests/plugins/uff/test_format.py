"""The UFF format: our .proto, reading/writing (binary and text), validation."""
from __future__ import annotations

import re

import numpy as np
import pytest

from trtforge_uff.format import io, schema, validate
from trtforge_uff.format.builder import UffBuilder
from trtforge_uff.format.graph import UffGraph
from trtforge_uff.format.values import DimOrder, expand, from_data, to_data

from uff_models import conv_net


def test_proto_file_and_built_descriptors_agree():
    text = schema.proto_text()
    for message, body in re.findall(r"message (\w+) \{(.*?)\}\n", text, flags=re.S):
        cls = schema.message_class(message)
        for name, number in re.findall(r"(\w+) = (\d+);", body):
            assert cls.DESCRIPTOR.fields_by_name[name].number == int(number), (message, name)
    data = schema.Data.DESCRIPTOR.fields_by_name
    assert {n: data[n].number for n in ("s", "blob", "ref", "dim_orders_list")} == {
        "s": 1, "blob": 9, "ref": 100, "dim_orders_list": 104}
    assert schema.MetaGraph.DESCRIPTOR.fields_by_name["referenced_data"].message_type.GetOptions().map_entry


def test_known_wire_bytes():
    # MetaGraph{version=1} is field 1 varint 1 -> 08 01; Data{i=7} is field 7 varint -> 38 07
    assert schema.MetaGraph(version=1).SerializeToString() == b"\x08\x01"
    assert to_data(7).SerializeToString() == b"\x38\x07"
    assert schema.Data(ref="a").SerializeToString() == b"\xa2\x06\x01a"  # field 100, wire type 2


def test_dim_orders():
    assert DimOrder.parse("N+C").for_rank(4) == [0, 2, 3, 1]
    assert DimOrder.parse("+CK").for_rank(4) == [2, 3, 1, 0]
    assert DimOrder.parse("NC+").for_rank(5) == [0, 1, 2, 3, 4]
    assert DimOrder.parse("N+C").orders[0][1] == (0, 2, schema.INCREMENT, 1)
    assert DimOrder.parse("+CK").orders[0][1] == (2, schema.INCREMENT, 1, 0)
    assert DimOrder.parse("N+C").text() == "N+C"
    with pytest.raises(ValueError):
        expand([0, 0], 2)


@pytest.mark.parametrize("value", [3, -2, 1.5, True, "same", b"\x00\x01", [1, 2], [1.5, 2.0],
                                   ["a", "b"], [True, False], DimOrder.parse("N+C")])
def test_data_round_trip(value):
    assert from_data(to_data(value)) == value


def test_binary_round_trip_is_byte_for_byte(tmp_path):
    meta = conv_net()
    path = io.write(meta, tmp_path / "net.uff")
    first = path.read_bytes()
    again = io.write(io.read(path), tmp_path / "again.uff").read_bytes()
    assert first == again == io.to_bytes(meta)


def test_text_round_trip(tmp_path):
    meta = conv_net()
    text_path = io.write(meta, tmp_path / "net.pbtxt")
    assert text_path.read_text().startswith("version: 1")
    back = io.read(text_path)
    assert back == meta
    assert io.to_bytes(back) == io.to_bytes(meta)


def test_other_writers_round_trip_semantically():
    meta = conv_net()
    shuffled = schema.MetaGraph()
    shuffled.ParseFromString(meta.SerializeToString())  # non-deterministic map order
    assert io.from_bytes(io.to_bytes(shuffled)) == meta


def test_graph_view_resolves_refs_and_weights():
    graph = UffGraph.of(conv_net())
    nodes = graph.by_id()
    weights = graph.const_value(nodes["conv/weights"])
    assert weights.shape == (3, 3, 3, 4) and weights.dtype == np.float32
    assert np.array_equal(weights, np.random.default_rng(0).standard_normal((3, 3, 3, 4)).astype(np.float32))
    assert nodes["conv/Conv2D"].fields["inputs_orders"][1].for_rank(4) == [2, 3, 1, 0]
    assert graph.outputs() == ["prob"]
    assert [n.id for n in graph.inputs()] == ["input"]


def test_well_formed_file_has_no_problems():
    assert validate.problems(conv_net()) == []


def test_validator_names_node_and_field_of_every_problem():
    meta = conv_net()
    nodes = {n.id: n for n in meta.graphs[0].nodes}
    del nodes["conv/Conv2D"].fields["strides"]
    nodes["pool"].fields["func"].s = "median"
    nodes["conv/BiasAdd"].inputs[1] = "missing_bias"
    nodes["conv/weights"].fields["shape"].i_list.val[0] = 5
    nodes["prob"].operation = "SoftMaxx"
    nodes["flat"].fields["extra"].ref = "nowhere"
    found = [str(p) for p in validate.problems(meta)]
    expected = [
        "node 'conv/Conv2D' (Conv) field 'strides': is missing",
        "node 'pool' (Pool) field 'func': 'median' is not one of",
        "node 'conv/BiasAdd' (Binary) field 'inputs[1]': names 'missing_bias'",
        "node 'conv/weights' (Const) field 'values': holds 432 bytes, shape [5, 3, 3, 4]",
        "node 'prob' (SoftMaxx) field 'operation': 'SoftMaxx' is no UFF core op",
        "node 'flat' (Reshape) field 'extra': refers to referenced_data['nowhere']",
    ]
    for text in expected:
        assert any(f.startswith(text) for f in found), (text, found)
    assert len(found) == len(expected)
    with pytest.raises(io.UffFormatError) as info:
        validate.require_valid(meta, "bad.uff")
    assert "6 problem(s)" in info.value.message and len(info.value.problems) == 6


def test_graph_level_problems():
    b = UffBuilder()
    x = b.input("x", [1, 2])
    b.node("a", "Activation", ["b"], {"func": "relu"})
    b.node("b", "Activation", ["a"], {"func": "relu"})
    b.plugin("p", "NMS_TRT", [x], {"topK_u_int": 10})
    meta = b.meta()
    del meta.descriptors[:]
    meta.version = 2
    found = [str(p) for p in validate.problems(meta)]
    assert any("MetaGraph field 'version': is 2" in f for f in found)
    assert any("no MarkOutput node" in f for f in found)
    assert any("node 'p' (_NMS_TRT) field 'operation': is a custom op" in f for f in found)
    assert any("part of a cycle" in f for f in found)


def test_unreadable_files(tmp_path):
    junk = tmp_path / "junk.uff"
    junk.write_bytes(b"\xff\xff\xff\xff not protobuf")
    with pytest.raises(io.UffFormatError, match="junk.uff is not a UFF file"):
        io.read(junk)
    text = tmp_path / "bad.pbtxt"
    text.write_text("version: 1\ngraphs { nodez {} }\n")
    with pytest.raises(io.UffFormatError, match="bad.pbtxt is not UFF text"):
        io.read(text)
    with pytest.raises(io.UffFormatError, match="cannot read UFF file"):
        io.read(tmp_path / "absent.uff")
