"""Small array helpers every part of trtforge shares: to numpy, flat outputs, cosine, seeded inputs.

One copy each, so check, compare, benchmark, calibration and INT8 accuracy control convert
tensors, measure direction and draw their default inputs the same way.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

log = logging.getLogger(__name__)


def to_numpy(value: Any) -> Any:
    """A numpy array from a numpy array, torch tensor (any device; bfloat16 as float32),
    TensorFlow tensor (``.numpy()``) or anything ``np.asarray`` takes."""
    import numpy as np

    if hasattr(value, "detach"):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            value = value.float()
        return value.numpy()
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        return value.numpy()
    return np.asarray(value)


def cosine_similarity(reference: Any, candidate: Any, when_zero: float | None = None) -> float:
    """Cosine of the two arrays flattened (float64). Where either is all zeros the cosine is
    undefined: ``when_zero`` if given, else 1.0 for equal arrays and 0.0 otherwise."""
    import numpy as np

    r = np.asarray(to_numpy(reference), dtype=np.float64).ravel()
    g = np.asarray(to_numpy(candidate), dtype=np.float64).ravel()
    norms = float(np.linalg.norm(r) * np.linalg.norm(g))
    if norms > 0:
        return float(np.dot(r, g) / norms)
    if when_zero is not None:
        return when_zero
    return float(np.array_equal(r, g))


def seeded_inputs(wanted: Sequence[tuple[Sequence[int], str]], seed: int = 0) -> list[Any]:
    """Default input values, one per ``(shape, dtype)``, from one seeded generator: floats
    standard normal (bfloat16 as float32), bools 0/1, integers 0..9."""
    import numpy as np

    rng = np.random.default_rng(seed)
    values = []
    for shape, dtype in wanted:
        shape = tuple(int(d) for d in shape)
        if dtype.startswith("float") or dtype == "bfloat16":
            values.append(rng.standard_normal(shape).astype(np.float32 if dtype == "bfloat16" else dtype))
        elif dtype == "bool":
            values.append(rng.integers(0, 2, shape).astype(bool))
        else:
            values.append(rng.integers(0, 10, shape).astype(dtype))
    return values


def default_inputs(io: Any, seed: int = 0, batch_size: int | None = None) -> dict[str, Any]:
    """Seeded random inputs for an engine, snapshot or program (``io.inputs``, ``io.profiles``)
    at each input's profile opt shape (static shapes as declared); ``batch_size`` replaces the
    first dimension of inputs whose batch is dynamic (how benchmarks feed one)."""
    profiles = {p.get("name"): p for p in io.profiles}
    wanted = []
    for i, spec in enumerate(io.inputs):
        shape = list(spec["shape"])
        dynamic_batch = bool(shape) and shape[0] < 0
        profile = profiles.get(spec["name"])
        if profile is None and len(io.profiles) == len(io.inputs):
            profile = io.profiles[i]
        if profile is not None:
            shape = list(profile["profiles"][0]["opt"])
        elif any(d < 0 for d in shape):
            shape = [1 if d < 0 else d for d in shape]
            log.warning("input %s has a dynamic shape and no profile; using %s", spec["name"], shape)
        if batch_size is not None and dynamic_batch:
            shape[0] = batch_size
        wanted.append((shape, spec["dtype"]))
    return dict(zip((s["name"] for s in io.inputs), seeded_inputs(wanted, seed)))


def flatten_outputs(value: Any) -> list[Any]:
    """Any framework's output (tensor, array, nested dict/list/tuple) as a flat list of arrays
    (float tensors as float32)."""
    if hasattr(value, "detach"):
        return [value.detach().float().cpu().numpy() if value.is_floating_point() else value.cpu().numpy()]
    if isinstance(value, Mapping):
        return [a for v in value.values() for a in flatten_outputs(v)]
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in flatten_outputs(v)]
    if hasattr(value, "numpy"):
        return [value.numpy()]
    if hasattr(value, "__array__"):
        import numpy as np

        return [np.asarray(value)]
    return []
