"""Third probe, on probe2's saved accuracy-controlled Q/DQ model: the first tensor that parts
from onnxruntime is features.4's projection (the first INT8 Conv after the float region: float
depthwise Conv + Clip -> Q/DQ -> INT8 Conv). Variant: that boundary Conv reads float input too
(its input Q/DQ removed), so no Q is fused into a float depthwise Conv."""
from __future__ import annotations

import os
import sys

import onnx
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnv2_int8_probe as p  # noqa: E402


def after_float_depthwise(node, producers) -> bool:
    if node.op_type != "Conv":
        return False
    dq = producers.get(node.input[0])
    if dq is None or dq.op_type != "DequantizeLinear":
        return False
    q = producers.get(dq.input[0])
    clip = producers.get(q.input[0]) if q is not None and q.op_type == "QuantizeLinear" else None
    conv = producers.get(clip.input[0]) if clip is not None and clip.op_type in ("Clip", "Relu") else None
    return conv is not None and conv.op_type == "Conv" and p.is_depthwise(conv, producers) and not any(
        producers.get(t) is not None and producers[t].op_type == "DequantizeLinear" for t in conv.input)


torch.manual_seed(0)
net = torchvision.models.mobilenet_v2(weights=None).eval()
p.recompute_batchnorm_statistics(net, p.inputs(16, 2))
x = p.inputs(p.BATCH, 1)
with torch.no_grad():
    ref = net(x).numpy()
qdq = onnx.load(f"{p.OUT}/mnv2_ac_qdq.onnx")
variant, changed = p.float_inputs_of(qdq, after_float_depthwise)
raw, built = p.trt_run(variant.SerializeToString(), x.numpy(), False)
sim = p.ort_run(variant, x.numpy())
p.say(variant="boundary Conv after a float depthwise Conv reads float", changed_inputs=changed,
      gpu_vs_torch=p.cosine(ref, raw), ortqdq_vs_torch=p.cosine(ref, sim), gpu_vs_ortqdq=p.cosine(sim, raw))
