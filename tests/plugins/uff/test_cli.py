"""``trtforge uff inspect`` / ``from-tf`` and ``trtforge convert model.uff``."""

from __future__ import annotations

import json

import pytest

from trtforge.cli import main

from trtforge_uff.format import io
from trtforge_uff.format.builder import UffBuilder

from uff_models import conv_net


def test_inspect_json(tmp_path, capsys):
    b = UffBuilder()
    x = b.input("Input", [1, 4])
    b.mark_output(b.plugin("NMS", "NMS_TRT", [x], {"topK_u_int": 5, "inputOrder_u_ilist": [0, 2, 1]}))
    path = io.write(b.meta(), tmp_path / "p.uff")
    assert main(["uff", "inspect", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    graph = summary["graphs"][0]
    assert graph["inputs"] == [{"name": "Input", "dtype": "float32", "shape": [1, 4]}]
    assert graph["outputs"] == ["NMS"] and graph["ops"] == {"Input": 1, "MarkOutput": 1, "_NMS_TRT": 1}
    assert graph["plugin_nodes"][0]["fields"] == {"inputOrder_u_ilist": [0, 2, 1], "topK_u_int": 5}
    assert summary["problems"] == []


def test_inspect_table_and_problems(tmp_path, capsys):
    meta = conv_net()
    del {n.id: n for n in meta.graphs[0].nodes}["pool"].fields["kernel"]
    path = io.write(meta, tmp_path / "bad.pbtxt")
    assert main(["uff", "inspect", str(path)]) == 1
    out = capsys.readouterr().out
    assert "graph main: 13 nodes" in out and "FullyConnected" in out
    assert "problem: node 'pool' (Pool) field 'kernel': is missing" in out


def test_errors_are_one_line_with_a_hint(tmp_path, capsys):
    junk = tmp_path / "junk.uff"
    junk.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["uff", "inspect", str(junk)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("error: ") and "is not a UFF file" in err[0]
    assert err[1].startswith("hint: ")


def test_convert_uff_from_the_command_line(tmp_path, capsys):
    path = io.write(conv_net(), tmp_path / "net.uff")
    engine = tmp_path / "net.engine"
    assert (
        main(
            [
                "convert",
                str(path),
                "--backend",
                "uff",
                "--target",
                "sm89",
                "--no-cache",
                "--output",
                str(engine),
            ]
        )
        == 0
    )
    assert engine.is_file() and engine.with_name("net.engine.json").is_file()


def test_from_tf_writes_uff_and_text(tmp_path, capsys):
    pytest.importorskip("trtforge.models.tf_graphs", reason="core's shared TF graph loading not merged yet")
    from trtforge_zoo import models as zoo

    model = zoo.SEED_MODELS["model1"](directory=tmp_path / "zoo")
    out = tmp_path / "m1.uff"
    assert main(["uff", "from-tf", str(model.path), "--output", str(out)]) == 0
    assert out.is_file() and out.with_suffix(".pbtxt").is_file()
    assert io.read(out) == io.read(out.with_suffix(".pbtxt"))


def test_convert_frozen_graph_keeps_the_uff(tmp_path, capsys):
    pytest.importorskip("trtforge.models.tf_graphs")
    from trtforge_zoo import models as zoo

    model = zoo.SEED_MODELS["model1"](directory=tmp_path / "zoo")
    kept = tmp_path / "kept"
    engine = tmp_path / "m1.engine"
    code = main(
        [
            "convert",
            str(model.path),
            "--backend",
            "uff",
            "--target",
            "sm89",
            "--no-cache",
            "--option",
            f"keep_uff={kept}",
            "--output",
            str(engine),
        ]
    )
    assert code == 0 and engine.is_file()
    assert sorted(p.suffix for p in kept.iterdir()) == [".pbtxt", ".uff"]
