"""H200 / TensorRT 8.6 smoke run of this session's refactors (LayerBuilder: inputs, outputs,
casts, Q/DQ; Engine.load -> Engine.from_bytes; TRTModule state_dict; Program benchmark feeds).
A small residual CNN with a dynamic batch through torch2trt at fp32/fp16/int8 and onnx_trt at
fp16: saved, loaded, run on the GPU against PyTorch, timed. Writes $OUT/smoke.json."""
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

import trtforge
from trtforge import InputSpec
from trtforge.arrays import cosine_similarity


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.c1, self.b1 = torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.BatchNorm2d(16)
        self.c2, self.c3 = torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(32, 10)

    def forward(self, x):
        x = torch.relu(self.b1(self.c1(x)))
        x = torch.relu(self.c2(x)) + x
        x = torch.relu(self.c3(x)).mean((2, 3))
        return self.fc(x.view(x.size(0), -1))


out = Path(os.environ.get("OUT", "/tmp/smoke"))
out.mkdir(parents=True, exist_ok=True)
model = Net().eval()
spec = InputSpec("x", min=(1, 3, 32, 32), opt=(8, 3, 32, 32), max=(32, 3, 32, 32))
x = np.random.default_rng(1).standard_normal((8, 3, 32, 32)).astype(np.float32)
with torch.no_grad():
    want = model(torch.from_numpy(x)).numpy()
rows, t0 = [], time.time()
for backend, precision in (("torch2trt", "fp32"), ("torch2trt", "fp16"), ("torch2trt", "int8"), ("onnx_trt", "fp16")):
    row = {"backend": backend, "precision": precision}
    try:
        start = time.time()
        engine = trtforge.convert(model, backend=backend, precision=precision, inputs=[spec], cache=False,
                                  calibration=np.random.default_rng(2).standard_normal((32, 3, 32, 32)).astype(np.float32),
                                  options={"int8_min_cosine": 0} if precision == "int8" else None)
        row["build_s"] = round(time.time() - start, 1)
        path = engine.save(out / f"{backend}-{precision}.engine")
        loaded = trtforge.Engine.load(path)  # Engine.from_bytes checks
        got = loaded.run([x])
        got = list(got.values())[0] if isinstance(got, dict) else got
        row["cosine"] = round(cosine_similarity(want, np.asarray(got)), 6)
        row["max_abs"] = float(np.abs(want - np.asarray(got)).max())
        bench = loaded.benchmark(batch_size=8, iterations=50, warmup=5)
        row["p50_ms_bs8"] = round(bench["latency_median"] * 1e3, 4)
        (out / path.name).unlink(missing_ok=True)
        (out / (path.name + ".json")).unlink(missing_ok=True)
    except Exception as exc:  # one failing row must not hide the others
        row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:400]
    rows.append(row)
    print(json.dumps(row), flush=True)
try:
    from trtforge_torch2trt import TRTModule, torch2trt

    xt = torch.from_numpy(x[:2]).cuda()
    mt = torch2trt(model, [torch.from_numpy(x[:2])], fp16_mode=True, max_batch_size=8)
    buf = io.BytesIO()
    torch.save(mt.state_dict(), buf)
    buf.seek(0)
    again = TRTModule()
    again.load_state_dict(torch.load(buf, weights_only=False))
    y = again(xt)
    rows.append({"trtmodule_state_dict": "ok", "cosine": round(cosine_similarity(want[:2], y.float().cpu().numpy()), 6)})
except Exception as exc:
    rows.append({"trtmodule_state_dict": f"{type(exc).__name__}: {exc}".splitlines()[0][:400]})
print(json.dumps(rows[-1]), flush=True)
result = {"tensorrt": trtforge.tensorrt.trt.get_tensorrt().facts.label, "torch": torch.__version__,
          "gpu": torch.cuda.get_device_name(0), "python": sys.version.split()[0], "rows": rows,
          "seconds": round(time.time() - t0, 1)}
(out / "smoke.json").write_text(json.dumps(result, indent=2))
