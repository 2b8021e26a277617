"""Convert here, build on the GPU machine: snapshot bundles with the outputs to agree with.

``make`` (here, where the frameworks are; TensorRT-RTX builds ahead of time for sm89) converts a
model, keeps only its network snapshot, and computes the source model's own outputs on seeded
inputs; weights larger than ``--max-mib`` are split into ``.npz.partNNN`` pieces, each small
enough for one device call (``Snapshot.load`` joins them). ``verify`` (on the GPU machine, no
framework needed) rebuilds every bundle in a folder with ``trtforge.build_snapshot`` for that
GPU, runs it on the same inputs and compares with the stored outputs (trtforge's tolerances;
fp32 is built without TF32 so the fp32 bound holds).

    python benchmarks/snapshot_bundle.py make build/bundles torchvision:resnet50 --backend onnx_trt \\
        --input x:1x3x224x224,8x3x224x224,32x3x224x224 --batch 8
    python benchmarks/snapshot_bundle.py make build/bundles zoo:model4 --backend torch2trt
    python benchmarks/snapshot_bundle.py verify /tmp/bundles [--precision fp16] [--json out.json]

Files per bundle NAME: NAME.bundle.json, NAME.snapshot.json, NAME.snapshot.npz (or its
.partNNN pieces) and NAME.expected.npz (``in/<input>`` and ``out/<output>`` arrays). They live in
an ignored folder (``build/``), so each piece travels as a ``carry`` path of its own call.
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("snapshot_bundle")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _name(model: str, backend: str, precision: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(model).stem if "/" in model else model).strip("-")
    stem = stem.replace("zoo-", "seed-")
    return f"{stem}-{backend}-{precision}"


def make(out: Path, model: str, backend: str, precision: str, inputs: list[str], batch: int | None,
         seed: int, max_mib: float, target: str) -> Path:
    import numpy as np

    import trtforge
    from trtforge.atomic import atomic_write_json
    from trtforge.checking import default_inputs, runner_for
    from trtforge.snapshot import engine_snapshot
    from trtforge.sources import detect

    try:
        import torch

        torch.manual_seed(seed)  # loaders such as torchvision:NAME initialise random weights
    except ImportError:
        pass
    zoo_model = None
    if model.startswith("zoo:"):  # the seed models (trtforge.zoo), converted as the demo does
        from trtforge.demo import build_model, compare_arguments

        zoo_model = build_model(model[4:], out / "zoo-sources")
        subject: Any = zoo_model.model
        inputs = inputs or compare_arguments(zoo_model)["inputs"]
    else:
        source = detect(Path(model) if Path(model).exists() else model)
        subject = source.model if source.model is not None else model
    engine = trtforge.convert(subject, backend=backend, precision=precision, inputs=inputs or None,
                              target=target, cache=False)
    snapshot = engine_snapshot(engine)
    if snapshot is None:
        raise SystemExit("the conversion kept no network snapshot")
    name = _name(model, backend, precision)
    out.mkdir(parents=True, exist_ok=True)
    _, weights = snapshot.save(out / name)
    order = [s["name"] for s in snapshot.inputs]
    if zoo_model is not None:
        example = zoo_model.example if batch is None else _with_batch(zoo_model.example, batch, seed)
        feeds = {order[0]: example}
        expected = [zoo_model.reference(example)]
    else:
        feeds = default_inputs(snapshot, seed)
        if batch is not None:
            feeds = {n: _with_batch(a, batch, seed) for n, a in feeds.items()}
        expected = runner_for(subject).run(feeds, order)
    names = [t["name"] for t in snapshot.outputs]
    arrays = {f"in/{n}": np.asarray(a) for n, a in feeds.items()}
    arrays.update({f"out/{n}": np.asarray(a) for n, a in zip(names, expected)})
    np.savez(out / f"{name}.expected.npz", **arrays)
    from snapshot_parts import split

    parts = split(weights, int(max_mib * (1 << 20)), remove=True) if weights.stat().st_size > max_mib * (1 << 20) else []
    info = {"name": name, "model": model, "backend": backend, "precision": precision,
            "inputs": {n: list(a.shape) for n, a in feeds.items()}, "outputs": names,
            "seed": seed, "made_with": engine.metadata["tensorrt"], "layers": len(snapshot.layers),
            "weights_parts": [p.name for p in parts]}
    atomic_write_json(out / f"{name}.bundle.json", info)
    for path in sorted(out.glob(f"{name}.*")):
        print(f"{path} {path.stat().st_size}")
    return out / f"{name}.bundle.json"


def _with_batch(array: Any, batch: int, seed: int) -> Any:
    import numpy as np

    rng = np.random.default_rng(seed)
    shape = (batch, *array.shape[1:])
    return rng.standard_normal(shape).astype(array.dtype) if array.dtype.kind == "f" else \
        np.resize(array, shape)


def verify(folder: Path, precision: str | None, target: str | None = None, cpu: bool = False,
           lower_int64: bool | None = None) -> list[dict[str, Any]]:
    """Rebuild, run (``cpu``: the rebuilt network on the CPU reference executor) and compare."""
    import numpy as np

    import trtforge
    from trtforge.checking import compare_arrays, tolerance_for
    from trtforge.specs import BuildSettings

    results = []
    for info_path in sorted(folder.glob("*.bundle.json")):
        info = json.loads(info_path.read_text())
        name = info["name"]
        row: dict[str, Any] = {"name": name, "made_with": info.get("made_with")}
        try:
            wanted = precision or info["precision"]
            started = time.perf_counter()
            engine = trtforge.build_snapshot(folder / f"{name}.snapshot.json", precision=wanted,
                                             target=target, settings=BuildSettings(tf32=wanted != "fp32"),
                                             lower_int64=lower_int64)
            row.update(precision=engine.precision, build_seconds=round(time.perf_counter() - started, 2),
                       tensorrt=engine.metadata["tensorrt"], notes=engine.metadata.get("notes"))
            with np.load(folder / f"{name}.expected.npz") as data:
                feeds = {k[3:]: data[k] for k in data.files if k.startswith("in/")}
                expected = {k[4:]: data[k] for k in data.files if k.startswith("out/")}
            if cpu:
                from trtforge.reference import Executor
                from trtforge.snapshot import engine_snapshot

                got = Executor(engine_snapshot(engine)).run(feeds).numpy()
            else:
                got = engine.run(feeds)
            tolerance = tolerance_for(engine.precision)
            metrics = [compare_arrays(n, expected[n], got[n], tolerance) for n in info["outputs"]]
            row.update(passed=all(m.passed for m in metrics),
                       outputs=[{"name": m.name, "max_abs": m.max_abs, "max_rel": m.max_rel,
                                 "cosine": m.cosine, "top1": m.top1, "reasons": m.reasons}
                                for m in metrics])
        except Exception as exc:  # one bundle failing must not hide the others
            row.update(passed=False, error=f"{type(exc).__name__}: {exc}".splitlines()[0])
        print(json.dumps(row, default=str))
        results.append(row)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    m = sub.add_parser("make", help="convert here and write a bundle")
    m.add_argument("out", type=Path)
    m.add_argument("model", help="model file, loader name (torchvision:resnet50) or seed model "
                   "(zoo:model1 .. zoo:model4)")
    m.add_argument("--backend", "-b", default="onnx_trt")
    m.add_argument("--precision", "-p", default="fp32")
    m.add_argument("--input", "-i", action="append", default=[])
    m.add_argument("--batch", type=int, help="batch of the stored inputs (default: the profile's opt)")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--max-mib", type=float, default=60.0)
    m.add_argument("--target", default="sm89", help="ahead-of-time target of the conversion here")
    v = sub.add_parser("verify", help="rebuild every bundle in a folder here, run and compare")
    v.add_argument("folder", type=Path)
    v.add_argument("--precision", help="build at this precision instead of the bundle's")
    v.add_argument("--json", type=Path, help="write the results here")
    v.add_argument("--target", help="build for this target (TensorRT-RTX without a GPU)")
    v.add_argument("--cpu", action="store_true", help="run the rebuilt network on the CPU reference "
                   "executor instead of the GPU (checks a bundle before carrying it)")
    v.add_argument("--lower-int64", action="store_true", default=None,
                   help="replay int64 as int32 as on TensorRT 8.x (default: only where int64 is missing)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.action == "make":
        make(args.out, args.model, args.backend, args.precision, args.input, args.batch, args.seed,
             args.max_mib, args.target)
        return 0
    results = verify(args.folder, args.precision, args.target, args.cpu, args.lower_int64)
    if args.json:
        from trtforge.atomic import atomic_write_json

        atomic_write_json(args.json, results)
    return 0 if results and all(r.get("passed") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
