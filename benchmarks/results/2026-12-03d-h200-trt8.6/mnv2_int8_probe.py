"""Where does MobileNetV2 INT8 part from its Q/DQ semantics on TensorRT 8.6? (GPU diagnosis)

The GPU suite's MobileNetV2 INT8 row gives cosine ~0.787 vs PyTorch on 8.6 for both routes, where
onnxruntime running the same Q/DQ model (the accuracy control's score) gives ~0.99. This takes the
Q/DQ ONNX that onnx_trt builds (same model, seeds and calibration as tests/gpu/test_gpu_routes.py),
builds it with plain TensorRT, and compares GPU / onnxruntime-QDQ / PyTorch fp32 for prefixes of
``features`` and for variants of the full model's Q/DQ (residual Adds or depthwise convolutions
left in float, FP16 allowed as well). One JSON line per row on stdout and in $OUT/mnv2_int8.jsonl.
"""
from __future__ import annotations

import copy
import json
import os
import sys
import time
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torchvision
from onnx import numpy_helper

import trtforge
from trtforge import InputSpec
from trtforge.int8.calibration import Calibration
from trtforge_zoo.models import recompute_batchnorm_statistics

OUT = os.environ.get("OUT", "/tmp/mnv2")
os.makedirs(OUT, exist_ok=True)
BATCH = 16


def say(**row: Any) -> None:
    line = json.dumps(row, default=float)
    print(line, flush=True)
    with open(f"{OUT}/mnv2_int8.jsonl", "a") as f:
        f.write(line + "\n")


def inputs(batch: int, seed: int) -> torch.Tensor:
    return torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(seed))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


def top1(a: np.ndarray, b: np.ndarray) -> float | None:
    if a.ndim != 2:
        return None
    return float((a.argmax(1) == b.argmax(1)).mean())


def trt_run(onnx_bytes: bytes, x: np.ndarray, fp16: bool) -> tuple[np.ndarray, float]:
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.ERROR)
    builder = trt.Builder(logger)
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))
    parser = trt.OnnxParser(network, logger)
    assert parser.parse(onnx_bytes), [str(parser.get_error(i)) for i in range(parser.num_errors)]
    config = builder.create_builder_config()
    config.set_flag(trt.BuilderFlag.INT8)
    config.clear_flag(trt.BuilderFlag.TF32)
    if fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    if hasattr(config, "builder_optimization_level"):
        config.builder_optimization_level = 1
    name = network.get_input(0).name
    shape = tuple(network.get_input(0).shape)
    if -1 in shape:
        profile = builder.create_optimization_profile()
        profile.set_shape(name, (1, *x.shape[1:]), x.shape, x.shape)
        config.add_optimization_profile(profile)
    start = time.time()
    plan = builder.build_serialized_network(network, config)
    assert plan is not None, "build failed"
    built = time.time() - start
    runtime = trt.Runtime(logger)
    engine = runtime.deserialize_cuda_engine(bytes(plan))  # bytes: see tests/gpu/test_gpu_uff.py
    context = engine.create_execution_context()
    context.set_binding_shape(0, x.shape)
    buffers = []
    out = None
    for i in range(engine.num_bindings):
        if engine.binding_is_input(i):
            buffers.append(torch.from_numpy(x).cuda())
        else:
            out = torch.empty(tuple(context.get_binding_shape(i)), dtype=torch.float32, device="cuda")
            buffers.append(out)
    assert context.execute_v2([int(b.data_ptr()) for b in buffers])
    torch.cuda.synchronize()
    return out.cpu().numpy(), built


def ort_run(model: Any, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def float_inputs_of(model: Any, predicate: Any) -> tuple[Any, int]:
    """A copy of the Q/DQ model where nodes matching ``predicate`` read float tensors."""
    model = copy.deepcopy(model)
    graph = model.graph
    producers = {o: n for n in graph.node for o in n.output}
    inits = {i.name: i for i in graph.initializer}
    changed = 0
    for node in graph.node:
        if not predicate(node, producers):
            continue
        for k, tensor in enumerate(node.input):
            dq = producers.get(tensor)
            if dq is None or dq.op_type != "DequantizeLinear":
                continue
            src = dq.input[0]
            q = producers.get(src)
            if q is not None and q.op_type == "QuantizeLinear":
                node.input[k] = q.input[0]
            elif src in inits:  # quantized weights: dequantize them into a float initializer
                w = numpy_helper.to_array(inits[src]).astype(np.float32)
                s = numpy_helper.to_array(inits[dq.input[1]]).astype(np.float32)
                axis = next((a.i for a in dq.attribute if a.name == "axis"), 1)
                if s.ndim == 1 and s.size > 1:
                    s = s.reshape([-1 if d == axis else 1 for d in range(w.ndim)])
                new = numpy_helper.from_array(w * s, f"{src}_float")
                graph.initializer.append(new)
                node.input[k] = new.name
            changed += 1
    return model, changed


def is_residual_add(node: Any, producers: Any) -> bool:
    return node.op_type == "Add" and any(
        producers.get(t) is not None and producers[t].op_type == "DequantizeLinear" for t in node.input)


def is_depthwise(node: Any, producers: Any) -> bool:
    return node.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in node.attribute)


def main() -> None:
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(0)
    net = torchvision.models.mobilenet_v2(weights=None).eval()
    recompute_batchnorm_statistics(net, inputs(16, 2))
    x = inputs(BATCH, 1)
    calibration = [(inputs(8, 100 + i),) for i in range(4)]
    args = sys.argv[1:] or ["2", "4", "7", "14", "0"]
    min_cosine = 0.99 if "ac" in args else 0  # "ac": the route's default INT8 accuracy control
    cuts = [int(c) for c in args if c != "ac"]
    for cut in cuts:
        model = torch.nn.Sequential(*net.features[:cut]).eval() if cut else net
        with torch.no_grad():
            ref = model.cuda()(x.cuda()).float().cpu().numpy()
        model.cpu()
        spec = InputSpec(None, min=(1, 3, 224, 224), opt=(BATCH, 3, 224, 224), max=(BATCH, 3, 224, 224))
        start = time.time()
        engine = trtforge.convert(model, backend="onnx_trt", precision="int8", inputs=[spec], cache=False,
                                  calibration=Calibration(data=calibration), optimization_level=1,
                                  options={"keep_onnx": True, "int8_min_cosine": min_cosine})
        name = engine.inputs[0]["name"]
        got = next(iter(engine.run({name: x.numpy()}).values()))
        qdq = onnx.load_from_string(engine.extras["artifacts"]["onnx"])
        sim = ort_run(qdq, x.numpy())
        label = f"features[:{cut}]" if cut else "full"
        say(what=label, variant=f"trtforge engine, int8_min_cosine={min_cosine}",
            kept_float=engine.extras["artifacts"].get("kept_fp32"), notes=engine.metadata.get("notes"), seconds=round(time.time() - start, 1),
            gpu_vs_torch=cosine(ref, got), ortqdq_vs_torch=cosine(ref, sim), gpu_vs_ortqdq=cosine(sim, got),
            top1_gpu=top1(ref, got), top1_ort=top1(ref, sim), max_abs_ref=float(np.abs(ref).max()))
        variants = [("as built, plain TensorRT", None, False)]
        if cut == 0:
            variants += [("residual Adds in float", is_residual_add, False),
                         ("depthwise convs in float", is_depthwise, False),
                         ("as built, INT8+FP16 flags", None, True)]
        for variant, predicate, fp16 in variants:
            try:
                model_v, changed = (qdq, 0) if predicate is None else float_inputs_of(qdq, predicate)
                raw, built = trt_run(model_v.SerializeToString(), x.numpy(), fp16)
                sim_v = ort_run(model_v, x.numpy())
                say(what=label, variant=variant, changed_inputs=changed, build_s=round(built, 1),
                    gpu_vs_torch=cosine(ref, raw), ortqdq_vs_torch=cosine(ref, sim_v),
                    gpu_vs_ortqdq=cosine(sim_v, raw), top1_gpu=top1(ref, raw), top1_ort=top1(ref, sim_v))
            except Exception as exc:  # a diagnosis: keep going, say what failed
                say(what=label, variant=variant, error=f"{type(exc).__name__}: {exc}"[:500])


if __name__ == "__main__":
    main()
