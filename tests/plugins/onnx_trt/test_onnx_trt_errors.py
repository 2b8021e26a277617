"""Bad inputs fail with one clear error that names the problem and the fix."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import trtforge
from trtforge.errors import (BackendUnavailableError, ConversionError, ModelSourceError,
                             UnsupportedOperationsError, UsageError)


def _model(nodes: list[Any], inputs: list[Any], outputs: list[Any], inits: list[Any] = (),
           extra_opsets: tuple[tuple[str, int], ...] = (), opset: int = 17) -> Any:
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    model = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, list(inits)),
                              opset_imports=opsets)
    model.ir_version = 8
    return model


def _small_onnx(path: Path) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32), "w")
    onnx.save(_model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [x], [y], [w]), str(path))
    return path


def test_truncated_onnx_file_is_refused(tmp_path: Path) -> None:
    good = _small_onnx(tmp_path / "good.onnx")
    assert trtforge.convert(good, backend="onnx_trt", target="sm89", cache=False).plan
    truncated = tmp_path / "truncated.onnx"
    data = good.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelSourceError, match="truncated.onnx") as info:
        trtforge.convert(truncated, backend="onnx_trt", target="sm89", cache=False)
    assert "export it again" in (info.value.hint or "")


def test_every_node_tensorrt_lacks_is_listed(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 3])
    outs = [helper.make_tensor_value_info("det", TensorProto.FLOAT, [2]),
            helper.make_tensor_value_info("bits", TensorProto.INT32, [2, 3, 3]),
            helper.make_tensor_value_info("custom", TensorProto.FLOAT, [2, 3, 3]),
            helper.make_tensor_value_info("det2", TensorProto.FLOAT, [2])]
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Det", ["r"], ["det"], name="first_det"),
        helper.make_node("Cast", ["x"], ["xi"], to=TensorProto.INT32, name="to_int"),
        helper.make_node("BitwiseNot", ["xi"], ["bits"], name="bit_not"),
        helper.make_node("Frobnicate", ["r"], ["custom"], domain="com.example", name="frob"),
        helper.make_node("Det", ["x"], ["det2"], name="second_det"),
    ]
    nodes[1].metadata_props.add(key="pkg.torch.onnx.stack_trace",
                                value='File "/src/net.py", line 12, in forward\n    d = torch.linalg.det(r)')
    model = _model(nodes, [x], outs, extra_opsets=(("com.example", 1),), opset=18)  # BitwiseNot: 18
    with pytest.raises(UnsupportedOperationsError) as info:
        trtforge.convert(model, backend="onnx_trt", target="sm89", cache=False)
    error = info.value
    assert "4 node(s)" in error.message and "Det x2" in error.message
    listed = "\n".join(error.unsupported)
    assert len(error.unsupported) == 4
    for name in ("first_det (Det)", "second_det (Det)", "bit_not (BitwiseNot)", "frob (com.example::Frobnicate)"):
        assert name in listed
    assert "[at /src/net.py:12 in forward: d = torch.linalg.det(r)]" in listed
    assert "relu" not in listed and "to_int" not in listed


def test_torch_model_with_unsupported_ops_reports_source_lines() -> None:
    import torch

    class Bad(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            d = torch.linalg.det(x)
            b = torch.bitwise_not(x.to(torch.int32))
            return d.sum() + b.sum().float() + torch.relu(x).sum()

    with pytest.raises(UnsupportedOperationsError) as info:
        trtforge.convert(Bad(), backend="onnx_trt", inputs=[torch.randn(2, 3, 3)], target="sm89", cache=False)
    listed = "\n".join(info.value.unsupported)
    assert "(Det)" in listed and "(BitwiseNot)" in listed
    assert f"{Path(__file__).name}:" in listed and "torch.linalg.det(x)" in listed
    assert "torch.bitwise_not" in listed


def test_unnamed_output_is_refused(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    nameless = helper.make_tensor_value_info("", TensorProto.FLOAT, [1, 4])
    model = _model([helper.make_node("Relu", ["x"], [""], name="relu")], [x], [nameless])
    path = tmp_path / "nameless.onnx"
    onnx.save(model, str(path))
    for given in (model, path):
        with pytest.raises(ConversionError, match="output #0 has no name") as info:
            trtforge.convert(given, backend="onnx_trt", target="sm89", cache=False)
        assert "output_names" in (info.value.hint or "")


BLOCKER = '''
import sys

class _NoTensorFlow:
    """Pretend the [tf] extra is not installed."""
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tf2onnx", "tf_keras"):
            raise ImportError(f"No module named {name!r} (blocked for the test)")
        return None

sys.meta_path.insert(0, _NoTensorFlow())
'''


def test_keras_file_without_the_tf_extra_names_the_extra(tmp_path: Path) -> None:
    import keras

    model = keras.Sequential([keras.Input((4,), name="x"), keras.layers.Dense(2)])
    path = tmp_path / "tiny.keras"
    model.save(path)
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])}
    trtforge_cli = Path(sys.executable).with_name("trtforge")
    result = subprocess.run([str(trtforge_cli), "convert", str(path), "--backend", "onnx_trt", "--target",
                             "sm89", "--no-cache"], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "pip install 'trtforge-onnx-trt[tf]'" in result.stderr
    assert "keras-file" in result.stderr and "Traceback" not in result.stderr
    script = textwrap.dedent(f"""
        import trtforge
        from trtforge.plugin.backends import registry
        from trtforge.errors import BackendUnavailableError
        from trtforge.models.sources import detect
        try:
            import tensorflow
        except ImportError:
            pass
        else:
            raise SystemExit("tensorflow should be blocked")
        source = detect({str(path)!r})
        assert not registry().get("onnx_trt").backend.accepts(source)
        try:
            trtforge.convert({str(path)!r}, backend="onnx_trt", target="sm89", cache=False)
        except BackendUnavailableError as exc:
            print("HINT", exc.hint)
    """)
    api = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert api.returncode == 0, api.stderr
    assert "HINT install the [tf] extra: pip install 'trtforge-onnx-trt[tf]'" in api.stdout


def test_route_is_registered_and_describes_itself() -> None:
    from trtforge.plugin.backends import registry
    from trtforge.models.sources import detect

    entry = registry().get("onnx_trt")
    assert entry.backend.priority == 100 and entry.backend.is_available()
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [x],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    assert entry.backend.accepts(detect(model))
    with pytest.raises(UsageError, match="does not know the option"):
        trtforge.convert(model, backend="onnx_trt", target="sm89", cache=False, options={"nope": 1})


def test_auto_reports_the_parser_failure_with_every_node() -> None:
    """With backend="auto" the failure is recorded per route (the next route would be tried)."""
    from trtforge.errors import AllRoutesFailedError

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 3])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in ("d1", "d2")]
    nodes = [helper.make_node("Det", ["x"], ["d1"], name="det_a"),
             helper.make_node("Det", ["x"], ["d2"], name="det_b")]
    with pytest.raises(AllRoutesFailedError) as info:
        trtforge.convert(_model(nodes, [x], outs), backend="auto", target="sm89", cache=False)
    reason = info.value.failures["onnx_trt"]
    assert "det_a (Det)" in reason and "det_b (Det)" in reason
