"""GPU diagnosis: TensorRT 8.6 network weights read back (layer.kernel) vs the ONNX initializers."""
from __future__ import annotations
import io, os, sys, gc
import numpy as np
import torch, torchvision, onnx
from onnx import numpy_helper
out = os.environ.get("OUT", "/tmp/diag"); os.makedirs(out, exist_ok=True)
lines = []
def say(*a):
    s = " ".join(str(v) for v in a); print(s, flush=True); lines.append(s)
    open(f"{out}/diag3.txt", "w").write("\n".join(lines) + "\n")
import tensorrt as trt
torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None).eval()
x = torch.randn(4, 3, 224, 224, generator=torch.Generator().manual_seed(1))
buf = io.BytesIO()
torch.onnx.export(model, (x,), buf, dynamo=False, opset_version=17, input_names=["x"], output_names=["y"], do_constant_folding=True)
data = buf.getvalue()
m = onnx.load_from_string(data)
inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
conv_w = [n.input[1] for n in m.graph.node if n.op_type == "Conv"]
say("torch conv1 abs sum", float(model.conv1.weight.detach().abs().sum()), "onnx", float(np.abs(inits[conv_w[0]]).sum()))
logger = trt.Logger(trt.Logger.WARNING)
builder = trt.Builder(logger)
net = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))
parser = trt.OnnxParser(net, logger)
assert parser.parse(data)
convs = [net.get_layer(i) for i in range(net.num_layers) if net.get_layer(i).type == trt.LayerType.CONVOLUTION]
say("layer0 python type", type(convs[0]).__name__)
for k, L in enumerate(convs[:3]):
    L.__class__ = trt.IConvolutionLayer
    a = L.kernel
    say(f"conv{k} kernel type={type(a).__name__} dtype={getattr(a,'dtype',None)} shape={getattr(a,'shape',None)} base={type(getattr(a,'base',None)).__name__}")
    c1 = np.array(a, copy=True)
    c2 = np.array(L.kernel, copy=True)
    ref = inits[conv_w[k]].ravel()
    say(f"  copy-of-held maxdiff={np.abs(c1-ref).max():.3e}  copy-of-temp maxdiff={np.abs(c2-ref).max():.3e}")
    del a; gc.collect()
    c3 = np.array(L.kernel, copy=True)
    say(f"  again after gc maxdiff={np.abs(c3-ref).max():.3e}")
def fresh(pre_support: bool, tag: str, drop_parser: bool = False):
    b2 = trt.Builder(logger)
    n = b2.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))
    p = trt.OnnxParser(n, logger)
    if pre_support:
        for op in sorted({nd.op_type for nd in m.graph.node}):
            p.supports_operator(op)
    assert p.parse(data)
    if drop_parser:
        del p; gc.collect(); p = None
    L = n.get_layer(0); L.__class__ = trt.IConvolutionLayer
    say(f"{tag}: conv0 maxdiff={np.abs(np.array(L.kernel, copy=True) - inits[conv_w[0]].ravel()).max():.3e}")
    return (b2, n, p)
keep = [fresh(False, "raw plain"), fresh(True, "raw after supports_operator"), fresh(False, "raw parser deleted", True)]
# what trtforge's reader sees, and its snapshot
import trtforge
from trtforge.verify.snapshot import engine_snapshot
e = trtforge.convert(model, backend="onnx_trt", inputs=[x], cache=False, tf32=False, options={"keep_onnx": True})
kept = onnx.load_from_string(e.extras["artifacts"]["onnx"])
kinit = {i.name: numpy_helper.to_array(i) for i in kept.graph.initializer}
kconv = [n.input[1] for n in kept.graph.node if n.op_type == "Conv"]
snap = engine_snapshot(e)
sconv = [L for L in snap.layers if L["type"] == "CONVOLUTION"]
for k in range(3):
    w = snap.weights[sconv[k]["attrs"]["kernel"]["weights"]]
    say(f"trtforge snapshot conv{k}: maxdiff vs its prepared onnx {np.abs(w - kinit[kconv[k]].ravel()).max():.3e}")
# reading inside a fresh trtforge network without snapshot machinery
from trtforge.tensorrt.trt import get_tensorrt
T = get_tensorrt()
n2 = T.create_network()
p2 = T.create_onnx_parser(n2)
assert p2.parse(e.extras["artifacts"]["onnx"])
L = n2.get_layer(0); L.__class__ = trt.IConvolutionLayer
say("trtforge-created network conv0 maxdiff", f"{np.abs(np.array(L.kernel, copy=True) - kinit[kconv[0]].ravel()).max():.3e}")
say("done")
