"""Second MobileNetV2 INT8 probe: the accuracy-controlled Q/DQ model (11 early Convs kept in
float) gives cosine 0.787 on TensorRT 8.6 where onnxruntime gives 0.991 on the same model, while
the all-INT8 model agrees with onnxruntime (0.971 both). Which block parts, and does FP16 or
marking intermediate outputs (which stops fusion across them) change it?"""
from __future__ import annotations

import os
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnv2_int8_probe as p  # noqa: E402

import trtforge  # noqa: E402
from trtforge import InputSpec  # noqa: E402
from trtforge.int8.calibration import Calibration  # noqa: E402


def main() -> None:
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(0)
    net = torchvision.models.mobilenet_v2(weights=None).eval()
    p.recompute_batchnorm_statistics(net, p.inputs(16, 2))
    x = p.inputs(p.BATCH, 1)
    with torch.no_grad():
        ref = net.cuda()(x.cuda()).float().cpu().numpy()
    net.cpu()
    spec = InputSpec(None, min=(1, 3, 224, 224), opt=(p.BATCH, 3, 224, 224), max=(p.BATCH, 3, 224, 224))
    engine = trtforge.convert(net, backend="onnx_trt", precision="int8", inputs=[spec], cache=False,
                              calibration=Calibration(data=[(p.inputs(8, 100 + i),) for i in range(4)]),
                              optimization_level=1, options={"keep_onnx": True})
    qdq = onnx.load_from_string(engine.extras["artifacts"]["onnx"])
    onnx.save(qdq, f"{p.OUT}/mnv2_ac_qdq.onnx")
    for fp16 in (False, True):
        raw, built = p.trt_run(qdq.SerializeToString(), x.numpy(), fp16)
        sim = p.ort_run(qdq, x.numpy())
        p.say(variant=f"accuracy-controlled Q/DQ, plain TensorRT, fp16={fp16}", gpu_vs_torch=p.cosine(ref, raw),
              ortqdq_vs_torch=p.cosine(ref, sim), gpu_vs_ortqdq=p.cosine(sim, raw))
    # intermediate outputs: the last node of each features block
    last = {}
    for node in qdq.graph.node:
        if node.name.startswith("/features/features.") and node.op_type not in ("QuantizeLinear", "DequantizeLinear"):
            block = int(node.name.split("/")[2].split(".")[1])
            last[block] = node.output[0]
    marked = onnx.ModelProto()
    marked.CopyFrom(qdq)
    wanted = [last[k] for k in sorted(last) if k <= 8]
    for name in wanted:
        marked.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    import tensorrt as trt  # noqa: F401  (trt_run returns the first output only: run them all here)
    outs_gpu = _run_all(marked.SerializeToString(), x.numpy(), wanted)
    import onnxruntime as ort
    session = ort.InferenceSession(marked.SerializeToString(), providers=["CPUExecutionProvider"])
    outs_ort = dict(zip([o.name for o in session.get_outputs()], session.run(None, {session.get_inputs()[0].name: x.numpy()})))
    for name in [qdq.graph.output[0].name, *wanted]:
        p.say(variant="marked intermediate outputs", tensor=name,
              gpu_vs_ortqdq=p.cosine(outs_ort[name], outs_gpu[name]),
              **({"gpu_vs_torch": p.cosine(ref, outs_gpu[name])} if name == qdq.graph.output[0].name else {}))


def _run_all(onnx_bytes: bytes, x: np.ndarray, extra: list[str]) -> dict[str, np.ndarray]:
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.ERROR)
    builder = trt.Builder(logger)
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))
    parser = trt.OnnxParser(network, logger)
    assert parser.parse(onnx_bytes)
    config = builder.create_builder_config()
    config.set_flag(trt.BuilderFlag.INT8)
    config.clear_flag(trt.BuilderFlag.TF32)
    config.builder_optimization_level = 1
    name = network.get_input(0).name
    profile = builder.create_optimization_profile()
    profile.set_shape(name, (1, *x.shape[1:]), x.shape, x.shape)
    config.add_optimization_profile(profile)
    plan = builder.build_serialized_network(network, config)
    runtime = trt.Runtime(logger)
    engine = runtime.deserialize_cuda_engine(bytes(plan))
    context = engine.create_execution_context()
    context.set_binding_shape(0, x.shape)
    buffers, outs = [], {}
    for i in range(engine.num_bindings):
        if engine.binding_is_input(i):
            buffers.append(torch.from_numpy(x).cuda())
        else:
            t = torch.empty(tuple(context.get_binding_shape(i)), dtype=torch.float32, device="cuda")
            outs[engine.get_binding_name(i)] = t
            buffers.append(t)
    assert context.execute_v2([int(b.data_ptr()) for b in buffers])
    torch.cuda.synchronize()
    return {k: v.cpu().numpy() for k, v in outs.items()}


if __name__ == "__main__":
    main()
