"""The seed-004 pipeline offline: synthetic SSD frozen graph -> surgery -> UFF -> TensorRT-RTX
(up to the NMS inputs) + host NMS, against the same model run in TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import trtforge  # noqa: E402
from trtforge.errors import UnsupportedOperationsError  # noqa: E402

from trtforge_uff import postprocess  # noqa: E402
from trtforge_uff.format import io, validate  # noqa: E402
from trtforge_uff.tf2uff.convert import graphdef_to_uff  # noqa: E402
from trtforge_uff.zoo import ssd  # noqa: E402
from trtforge_uff.zoo.specs import MODEL_SPECS  # noqa: E402

SPEC = MODEL_SPECS["synthetic_ssd"]
NMS_INPUTS = ["concat_box_loc", "concat_box_conf", "concat_priorbox"]


@pytest.fixture(scope="module")
def ssd_uff(tmp_path_factory):
    graph_def = ssd.build_graph(seed=0)
    plugin_graph = ssd.plugin_graph(graph_def)
    result = graphdef_to_uff(plugin_graph, ["Input"], ["NMS"])
    folder = tmp_path_factory.mktemp("ssd")
    io.write(result.meta, folder / "ssd.pbtxt")
    return graph_def, result, io.write(result.meta, folder / "ssd.uff")


def test_uff_has_the_plugin_nodes(ssd_uff):
    _, result, path = ssd_uff
    meta = io.read(path)
    assert validate.problems(meta) == []
    ops = {n.id: n.operation for n in meta.graphs[0].nodes}
    assert ops["NMS"] == "_NMS_TRT" and ops["GridAnchor"] == "_GridAnchor_TRT"
    assert ops["concat_box_loc"] == ops["concat_box_conf"] == "_FlattenConcat_TRT"
    assert ops["concat_priorbox"] == "Concat" and "custom" in {d.id for d in meta.descriptors}
    nms = {n.id: n for n in meta.graphs[0].nodes}["NMS"]
    assert set(nms.fields) >= {
        "topK_u_int",
        "keepTopK_u_int",
        "numClasses_u_int",
        "inputOrder_u_ilist",
        "nmsThreshold_u_float",
        "confidenceThreshold_u_float",
        "confSigmoid_u_int",
        "isNormalized_u_int",
        "shareLocation_u_int",
        "backgroundLabelId_u_int",
    }
    assert list(nms.fields["inputOrder_u_ilist"].i_list.val) == [0, 2, 1]
    assert result.plugin_nodes == ["concat_box_loc", "GridAnchor", "concat_box_conf", "NMS"]


def test_nms_is_reported_before_building_on_rtx(ssd_uff):
    _, _, path = ssd_uff
    with pytest.raises(UnsupportedOperationsError) as info:
        trtforge.convert(path, backend="uff", cache=False, target="sm89", fallback="never")
    assert info.value.unsupported and info.value.unsupported[0].startswith("_NMS_TRT x1 (at NMS)")
    assert "post-processing cannot run inside the engine" in info.value.unsupported[0]


def test_hybrid_program_engine_then_host_nms(ssd_uff, tmp_path):
    from trtforge.verify.checking import FrozenGraphRunner
    from trtforge.program import Program

    graph_def, _, path = ssd_uff
    program = trtforge.convert(path, backend="uff", cache=False, target="sm89")  # fallback="auto"
    assert isinstance(program, Program)
    assert [s.kind for s in program.stages] == ["tensorrt", "uff.nms"]
    assert program.stages[1].inputs == ["concat_box_loc", "concat_priorbox", "concat_box_conf"]
    assert [o["name"] for o in program.outputs] == ["NMS", "NMS_1"]
    image = np.random.default_rng(5).uniform(-1, 1, (1, 64, 64, 3)).astype(np.float32)
    out = program.run({"Input": image})  # no GPU: the engine runs through the reference executor
    assert out["NMS"].shape == (1, 1, SPEC.keep_top_k, 7) and out["NMS_1"].dtype == np.int32
    count = int(out["NMS_1"].reshape(-1)[0])
    ref = dict(
        zip(ssd.OUTPUTS, FrozenGraphRunner(graph_def).fetch({"Preprocessor/sub": image}, list(ssd.OUTPUTS)))
    )
    tf_count = int(ref["num_detections"][0])
    rows = out["NMS"][0, 0, :count]
    ours = {(int(r[1]), *np.round(r[[4, 3, 6, 5]], 3).tolist()) for r in rows}  # xyxy -> yxyx
    theirs = {
        (int(c), *np.round(b, 3).tolist())
        for b, c in zip(ref["detection_boxes"][0][:tf_count], ref["detection_classes"][0][:tf_count])
    }
    assert count == tf_count > 0 and ours == theirs
    assert (out["NMS"][0, 0, count:, 1] == -1).all()
    saved = program.save(tmp_path / "ssd_program")
    loaded = Program.load(saved if saved is not None else tmp_path / "ssd_program")
    np.testing.assert_array_equal(loaded.run({"Input": image})["NMS"], out["NMS"])
    # a fresh process knows the host-NMS stage kind through the plugin hook, not an import
    probe = ("import sys; from trtforge.program import Program; "
             "print([s.kind for s in Program.load(sys.argv[1]).stages])")
    result = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "ssd_program")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['tensorrt', 'uff.nms']"


def test_host_nms_boundaries_report_their_bytes(ssd_uff):
    from trtforge.program.partition import partition
    from trtforge.conversion.specs import BuildSpec
    from trtforge.tensorrt.trt import get_tensorrt
    from trtforge_uff.format.graph import UffGraph
    from trtforge_uff.partial import partial_graph

    _, result, _ = ssd_uff
    graph = partial_graph(UffGraph.of(result.meta), BuildSpec(), "ssd.uff", tensorrt=get_tensorrt())
    report = partition(graph.nodes, graph.outputs, route="uff")
    sizes = {b.tensor: (b.bytes, b.shape) for b in report.boundaries}
    assert sorted(sizes) == sorted(NMS_INPUTS)
    for size, shape in sizes.values():  # float32 values: 4 bytes an element
        elements = int(np.prod([int(d) for d in shape.split("x")]))
        assert size == 4 * elements > 0


def test_engine_plus_host_nms_matches_tensorflow(ssd_uff):
    from trtforge.verify.checking import FrozenGraphRunner
    from trtforge.reference import Executor
    from trtforge.verify.snapshot import engine_snapshot

    graph_def, _, path = ssd_uff
    engine = trtforge.convert(
        path, backend="uff", cache=False, target="sm89", options={"outputs": NMS_INPUTS}
    )
    # The surgery folded Preprocessor into Input: feed TensorFlow the preprocessed image there.
    image = np.random.default_rng(3).uniform(-1, 1, (1, 64, 64, 3)).astype(np.float32)
    got = Executor(engine_snapshot(engine)).run({"Input": image}).numpy()
    names = ["concat", "concat_1", "MultipleGridAnchorGenerator/Concatenate/concat", *ssd.OUTPUTS]
    ref = dict(zip(names, FrozenGraphRunner(graph_def).fetch({"Preprocessor/sub": image}, names)))
    assert got["concat_box_loc"].shape == (1, SPEC.num_priors * 4, 1, 1)
    np.testing.assert_allclose(got["concat_box_loc"].reshape(-1), ref["concat"].reshape(-1), atol=1e-4)
    np.testing.assert_allclose(got["concat_box_conf"].reshape(-1), ref["concat_1"].reshape(-1), atol=1e-4)
    priors_yxyx = got["concat_priorbox"][0, 0, :, 0].reshape(-1, 4)[:, [1, 0, 3, 2]]
    np.testing.assert_allclose(priors_yxyx, ref["MultipleGridAnchorGenerator/Concatenate/concat"], atol=1e-6)
    ours = postprocess.ssd_detections(
        got["concat_box_loc"], got["concat_box_conf"], got["concat_priorbox"], SPEC
    )
    count = int(ref["num_detections"][0])
    theirs = postprocess.Detections(
        ref["detection_boxes"][0][:count],
        ref["detection_scores"][0][:count],
        ref["detection_classes"][0][:count].astype(np.int64),
    )
    assert count == len(ours.scores) > 0
    assert ours.as_set(3) == theirs.as_set(3)
    np.testing.assert_allclose(np.sort(ours.scores), np.sort(theirs.scores), atol=1e-5)


def test_grid_anchor_layout():
    from trtforge_uff.importer.converters.plugins import grid_anchors

    layers = grid_anchors(0.2, 0.95, [1.0, 2.0, 0.5, 3.0, 0.33], [0.1, 0.1, 0.2, 0.2], [2, 1])
    assert [a.shape for a in layers] == [(1, 2, 2 * 2 * 3 * 4, 1), (1, 2, 1 * 1 * 6 * 4, 1)]
    first = layers[0][0, 0, :4, 0]  # location (0, 0), box scale 0.1 ratio 1: centre 0.25
    np.testing.assert_allclose(first, [0.2, 0.2, 0.3, 0.3], atol=1e-6)
    np.testing.assert_allclose(layers[0][0, 1, :4, 0], [0.1, 0.1, 0.2, 0.2])
    last = layers[1][0, 0, -4:, 0]  # ratio-1 box of scale sqrt(0.95 * 1.0) at the centre
    s = np.sqrt(0.95)
    np.testing.assert_allclose(last, [0.5 - s / 2, 0.5 - s / 2, 0.5 + s / 2, 0.5 + s / 2], atol=1e-6)


def test_seed_004_build_script_example(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    from trtforge.program import Program

    script = Path(__file__).parents[3] / "plugins" / "uff" / "examples" / "build_engine_ssd.py"
    module_spec = importlib.util.spec_from_file_location("build_engine_ssd", script)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    assert module.main([str(tmp_path), "--target", "sm89"]) == 0
    out = capsys.readouterr().out
    assert "UffParser: uff cannot convert 1 op kind(s)" in out and "_NMS_TRT x1 (at NMS)" in out
    program = Program.load(tmp_path / "model.program")
    assert [s.kind for s in program.stages] == ["tensorrt", "uff.nms"]
    assert io.read(tmp_path / "model.uff") == io.read(tmp_path / "model.pbtxt")
