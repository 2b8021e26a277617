"""GPU diagnosis (2026-12-02 session 2): snapshot_build failure and MobileNetV2 int8 divergence."""
from __future__ import annotations
import os, sys, time, json, traceback
import numpy as np
import torch, torchvision
import trtforge
from trtforge import InputSpec

out = os.environ.get("OUT", "/tmp/diag"); os.makedirs(out, exist_ok=True)
lines = []
def say(*a):
    s = " ".join(str(v) for v in a); print(s, flush=True); lines.append(s)
    open(f"{out}/diag2.txt", "w").write("\n".join(lines) + "\n")
def cmp(tag, ref, got):
    ref = np.asarray(ref, np.float64).ravel(); got = np.asarray(got, np.float64).ravel()
    cos = float((got * ref).sum() / (np.linalg.norm(got) * np.linalg.norm(ref) + 1e-30))
    say(f"{tag}: maxabs={np.abs(got-ref).max():.3e} cos={cos:.5f} |ref|max={np.abs(ref).max():.3e} |got|max={np.abs(got).max():.3e}")
def noTF32():
    torch.backends.cudnn.allow_tf32 = False; torch.backends.cuda.matmul.allow_tf32 = False

part = sys.argv[1] if len(sys.argv) > 1 else "all"
if part in ("snap", "all"):
    from trtforge.verify.snapshot import engine_snapshot, Snapshot
    from trtforge.reference.executor import execute
    from trtforge.conversion.specs import BuildSettings
    noTF32()
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(4, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = model.cuda()(x.cuda()).float().cpu().numpy(); model.cpu()
    cmp("ref vs fc bias", ref, np.broadcast_to(model.fc.bias.detach().numpy(), ref.shape))
    t = time.time()
    e = trtforge.convert(model, backend="onnx_trt", inputs=[x], cache=False, tf32=False)
    say("built", round(time.time() - t, 1), "s")
    name = e.inputs[0]["name"]
    cmp("A in-memory numpy", ref, next(iter(e.run({name: x.numpy()}).values())))
    snap = engine_snapshot(e)
    say("snapshot layers", len(snap.layers), "weights", len(snap.weights))
    with open(f"{out}/snap86_layers.txt", "w") as f:
        for i, L in enumerate(snap.layers):
            attrs = {k: (v if not (isinstance(v, dict) and "weights" in v) else
                         f"W{snap.weights[v['weights']].shape}/{snap.weights[v['weights']].dtype}/sum|{float(np.abs(snap.weights[v['weights']].astype(np.float64)).sum()):.4g}")
                     for k, v in L["attrs"].items()}
            f.write(f"{i} {L['type']} {L['name']} in={L['inputs']} out={[o['name']+str(o['shape'])+o['dtype'] for o in L['outputs']]} {attrs}\n")
    try:
        sim = execute(snap, {name: x.numpy()})
        cmp("E reference executor on 8.6 snapshot (in memory)", ref, next(iter(sim.values())))
    except Exception as exc:
        say("executor failed", repr(exc)); traceback.print_exc()
    p = e.save(f"{out}/r18.engine", snapshot=True)
    cmp("B in-memory after save", ref, next(iter(e.run({name: x.numpy()}).values())))
    loaded = trtforge.Engine.load(p)
    cmp("C Engine.load numpy", ref, next(iter(loaded.run({name: x.numpy()}).values())))
    saved = Snapshot.load(f"{p}.snapshot.json")
    diffs = [k for k in snap.weights if not np.array_equal(snap.weights[k], saved.weights[k])]
    say("saved snapshot weights differing from in-memory:", len(diffs), diffs[:5])
    try:
        cmp("E2 reference executor on saved snapshot", ref, next(iter(execute(saved, {name: x.numpy()}).values())))
    except Exception as exc:
        say("executor2 failed", repr(exc))
    t = time.time()
    rebuilt = trtforge.build_snapshot(f"{p}.snapshot.json", settings=BuildSettings(tf32=False))
    say("rebuilt", round(time.time() - t, 1), "s", rebuilt.metadata.get("from_snapshot"))
    cmp("D rebuilt numpy", ref, next(iter(rebuilt.run({name: x.numpy()}).values())))
    rs = engine_snapshot(rebuilt)
    if rs is not None:
        with open(f"{out}/snap86_rebuilt_layers.txt", "w") as f:
            for i, L in enumerate(rs.layers):
                f.write(f"{i} {L['type']} {L['name']} in={L['inputs']} {sorted(L['attrs'])}\n")
        try:
            cmp("F executor on rebuilt's own snapshot", ref, next(iter(execute(rs, {name: x.numpy()}).values())))
        except Exception as exc:
            say("executor3 failed", repr(exc))
    os.remove(p) if os.path.exists(p) else None
    for f_ in os.listdir(out):
        if f_.startswith("r18.engine"):
            os.remove(os.path.join(out, f_))

if part in ("mnv2", "all"):
    from trtforge_zoo.models import recompute_batchnorm_statistics
    from trtforge.int8.calibration import Calibration
    from trtforge.verify.snapshot import engine_snapshot
    from trtforge.reference.executor import execute
    noTF32()
    def inp(b, seed=1): return torch.randn(b, 3, 224, 224, generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(0)
    net = torchvision.models.mobilenet_v2(weights=None).eval()
    recompute_batchnorm_statistics(net, inp(16, seed=2))
    cal = Calibration(data=[(inp(8, seed=100 + i),) for i in range(4)])
    x = inp(16)
    routes = sys.argv[2].split(",") if len(sys.argv) > 2 else ["onnx_trt"]
    cuts = [int(c) for c in (sys.argv[3].split(",") if len(sys.argv) > 3 else ["19"])]
    for route in routes:
        for cut in cuts:
            for mc in ((None,) if os.environ.get('MC') == 'none' else (None, 0.0)):
                sub = net if cut >= 19 else torch.nn.Sequential(*list(net.features.children())[:cut]).eval()
                with torch.no_grad():
                    ref = sub.cuda()(x.cuda()).float().cpu().numpy(); sub.cpu()
                spec = InputSpec(None, min=(1, 3, 224, 224), opt=(16, 3, 224, 224), max=(16, 3, 224, 224))
                opts = {} if mc is None else {"int8_min_cosine": mc}
                t = time.time()
                try:
                    e = trtforge.convert(sub, backend=route, precision="int8", inputs=[spec], calibration=cal,
                                         cache=False, optimization_level=1, options=opts)
                except Exception as exc:
                    say(route, cut, mc, "failed", repr(exc)[:300]); continue
                tag = f"{route} cut={cut} min_cos={mc} ({time.time()-t:.0f}s)"
                name = e.inputs[0]["name"]
                got = next(iter(e.run({name: x.numpy()}).values()))
                cmp(tag + " GPU vs torch", ref, got)
                say("   notes:", [n for n in e.metadata.get("notes", []) if "snapshot" in n][:2])
                snap_ = engine_snapshot(e)
                if snap_ is None:
                    say("   no snapshot"); continue
                sim = next(iter(execute(snap_, {name: x.numpy()}).values()))
                cmp(tag + " sim vs torch", ref, sim); cmp(tag + " GPU vs sim", sim, got)
                say("   notes:", [n for n in e.metadata.get("notes", []) if "int8" in n.lower() or "quant" in n.lower()][:3])
                if cut >= 19 and mc is None:
                    try:
                        from trtforge.report.profiling import profile_engine
                        prof = profile_engine(e, 16, iterations=1)
                        with open(f"{out}/mnv2_{route}_layers.txt", "w") as f:
                            for layer in prof.layers:
                                f.write(f"{layer.name} [{layer.layer_type}] {getattr(layer, 'tactic', '')} {getattr(layer, 'sources', '')}\n")
                    except Exception as exc:
                        say("profile failed", repr(exc))
say("done")
