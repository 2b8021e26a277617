"""INT8 calibration data and the calibration cache every route reads and writes.

The cache is a small JSON file of per-tensor absolute maxima (symmetric INT8: scale = amax/127),
keyed by *source-level tensor names* so that two routes converting the same model can share it:

- ONNX models (and TF models through tf2onnx): the ONNX value name.
- PyTorch modules: the node names of the ``torch.export`` graph (the dynamo ONNX exporter keeps
  them as ONNX value names), graph inputs by their placeholder names.

A route that finds every key it needs skips calibration; a route that finds only some keys
calibrates and adds the rest. The file records the model fingerprint, and a cache for another
model is refused rather than silently reused.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from trtforge.arrays import to_numpy as _to_numpy
from trtforge.atomic import atomic_write_json
from trtforge.errors import UsageError

FORMAT = "trtforge-calibration"
FORMAT_VERSION = 1
INT8_MAX = 127.0


def activation_scale(amax: float) -> float:
    """Symmetric per-tensor INT8 scale of a calibrated range (all zeros: a tiny scale)."""
    return max(float(amax), 1e-8) / INT8_MAX
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".webp")


class CalibrationCacheError(UsageError):
    """A calibration cache file is corrupt or belongs to another model."""


@dataclass
class CalibrationCache:
    """Per-tensor ranges for one model (``amax`` = largest absolute value seen)."""

    model_fingerprint: str
    ranges: dict[str, float] = field(default_factory=dict)
    method: str = "max"
    batches: int = 0
    producer: str = ""
    # Source-level names of ops the producer chose to leave unquantized (INT8 accuracy
    # control); None when no such choice was made. Routes that read it keep them in float.
    unquantized: list[str] | None = None

    def scale(self, key: str) -> float:
        """Symmetric INT8 scale for ``key`` (a tensor that is all zeros gets a tiny scale)."""
        return activation_scale(self.ranges[key])

    def missing(self, keys: Iterable[str]) -> list[str]:
        return [k for k in keys if k not in self.ranges]

    def update(self, ranges: dict[str, float]) -> None:
        for key, value in ranges.items():
            value = float(value)
            if not math.isfinite(value):
                raise CalibrationCacheError(
                    f"calibration range of {key!r} is {value}",
                    hint="the calibration data produced inf/nan; check its preprocessing")
            self.ranges[key] = max(value, self.ranges.get(key, 0.0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model_fingerprint": self.model_fingerprint,
            "method": self.method,
            "batches": self.batches,
            "producer": self.producer,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "ranges": dict(sorted(self.ranges.items())),
            **({"unquantized": list(self.unquantized)} if self.unquantized is not None else {}),
        }

    def save(self, path: str | Path) -> Path:
        return atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path, model_fingerprint: str | None = None) -> "CalibrationCache":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CalibrationCacheError(f"calibration cache not found: {path}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CalibrationCacheError(
                f"calibration cache {path} is not valid JSON ({exc})",
                hint="delete it; it will be rewritten by the next INT8 conversion") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CalibrationCacheError(f"{path} is not a trtforge calibration cache")
        if data.get("version") != FORMAT_VERSION:
            raise CalibrationCacheError(
                f"calibration cache {path} has version {data.get('version')}, expected {FORMAT_VERSION}")
        ranges = data.get("ranges")
        if not isinstance(ranges, dict) or not all(
            isinstance(v, (int, float)) and math.isfinite(v) and v >= 0 for v in ranges.values()
        ):
            raise CalibrationCacheError(f"calibration cache {path} has malformed ranges",
                                        hint="delete it and calibrate again")
        if model_fingerprint is not None and data.get("model_fingerprint") != model_fingerprint:
            raise CalibrationCacheError(
                f"calibration cache {path} was written for another model",
                hint="use a cache file per model, or delete this one to recalibrate")
        return cls(
            model_fingerprint=str(data.get("model_fingerprint")),
            ranges={str(k): float(v) for k, v in ranges.items()},
            method=str(data.get("method", "max")),
            batches=int(data.get("batches", 0)),
            producer=str(data.get("producer", "")),
            unquantized=[str(n) for n in data["unquantized"]] if isinstance(data.get("unquantized"), list) else None,
        )


@dataclass(frozen=True)
class ImageFolder:
    """A folder of images plus the function that turns one PIL image into a model input array."""

    path: Path
    preprocess: Callable[[Any], Any]
    batch_size: int = 8

    def __iter__(self) -> Iterator[Any]:
        import numpy as np
        from PIL import Image

        root = Path(self.path)
        if not root.is_dir():
            raise UsageError(f"calibration image folder not found: {root}")
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise UsageError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {root}")
        for start in range(0, len(files), self.batch_size):
            arrays = []
            for file in files[start:start + self.batch_size]:
                with Image.open(file) as image:
                    arrays.append(np.asarray(self.preprocess(image.convert("RGB"))))
            yield np.stack(arrays)


@dataclass
class Calibration:
    """What ``convert(..., calibration=...)`` takes for INT8.

    ``data``: an iterable of batches (each an array/tensor, a tuple of them, or a dict by input
    name), one numpy array split along axis 0 into ``batch_size`` batches, or an
    :class:`ImageFolder`. ``cache``: a calibration cache file to read (skipping calibration
    when it has every range) and write. ``method``: how each tensor's amax is chosen --
    ``"max"`` (largest absolute value), ``"percentile"`` (99.99th percentile of ``|x|``;
    ``"percentile:P"`` for another), ``"mse"`` (least squared quantization error over a
    histogram); routes name the methods they support. The cache records the method.
    """

    data: Any = None
    cache: str | Path | None = None
    batch_size: int = 8
    max_batches: int | None = None
    method: str = "max"

    def cache_key(self) -> str:
        """Part of the engine cache key: what decides the ranges -- the cache file's content,
        a digest of the data, the method and the batching (never an object's identity).

        A one-shot iterator (a generator) is read into a list first, so that hashing it does
        not use it up before calibration.
        """
        import hashlib

        if _is_iterator(self.data):
            self.data = list(self.data)
        cache_file = Path(self.cache) if self.cache is not None else None
        parts = {
            "method": self.method,
            "batch_size": self.batch_size,
            "max_batches": self.max_batches,
            "cache": ("sha256:" + hashlib.sha256(cache_file.read_bytes()).hexdigest()
                      if cache_file is not None and cache_file.is_file() else None),
            "data": data_digest(self.data),
        }
        return "calibration:" + hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def __post_init__(self) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise UsageError(f"calibration batch_size must be a positive integer, got {self.batch_size!r}",
                             hint="e.g. Calibration(data=..., batch_size=8)")
        if self.max_batches is not None and (isinstance(self.max_batches, bool) or not isinstance(
                self.max_batches, int) or self.max_batches < 1):
            raise UsageError(f"calibration max_batches must be a positive integer or None, got "
                             f"{self.max_batches!r}", hint="e.g. max_batches=16, or None for all")
        if isinstance(self.data, (str, bytes, Path)):
            raise UsageError(f"calibration data {str(self.data)!r} is a string, not data",
                             hint="pass arrays/tensors (or batches of them), an ImageFolder, or a "
                             "calibration cache .json file")

    def batches(self, input_names: Sequence[str],
                expected: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Yield batches as ``{input name: numpy array}``.

        Every batch is checked: finite values only (one NaN would make every range NaN),
        and, where ``expected`` (input name -> InputSpec) is given, the model's rank and
        non-batch dimensions.
        """
        if self.data is None:
            raise UsageError("INT8 needs calibration data",
                             hint="pass calibration=Calibration(data=...) or a cache file with every range")
        count = 0
        for batch in _iter_batches(self.data, self.batch_size):
            if self.max_batches is not None and count >= self.max_batches:
                break
            named = _as_named(batch, input_names)
            _check_batch(named, count, expected)
            yield named
            count += 1
        if count == 0:
            raise UsageError("the calibration data yielded no batch",
                             hint="give at least one batch (an array with a leading batch axis)")


def as_calibration(value: Any) -> Calibration | None:
    """Normalise the user's ``calibration=`` argument."""
    if value is None or isinstance(value, Calibration):
        return value
    if isinstance(value, (str, Path)) and Path(value).suffix == ".json":
        return Calibration(cache=value)
    return Calibration(data=value)


def data_digest(data: Any) -> str:
    """sha256 of calibration data by content: arrays/tensors (dtype, shape, bytes), batches of
    them (tuples, lists, dicts by name), an :class:`ImageFolder` (files, sizes, times, the
    preprocess function), or an object's own ``cache_key()``."""
    import hashlib

    digest = hashlib.sha256()
    _digest_into(digest, data)
    return digest.hexdigest()


def _is_iterator(value: Any) -> bool:
    try:
        return value is not None and iter(value) is value
    except TypeError:
        return False


def _digest_into(digest: Any, value: Any) -> None:
    import numpy as np

    own = getattr(value, "cache_key", None)
    if callable(own) and not isinstance(value, type):
        digest.update(b"key:" + str(own()).encode())
    elif value is None or isinstance(value, (bool, int, float, str, bytes)):
        digest.update(b"scalar:" + repr(value).encode())
    elif isinstance(value, ImageFolder):
        root = Path(value.path)
        digest.update(f"images:{value.batch_size}:{_callable_identity(value.preprocess)}".encode())
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES) if root.is_dir() else []
        for file in files:
            stat = file.stat()
            digest.update(f"{file.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    elif hasattr(value, "shape") and hasattr(value, "dtype"):
        array = np.ascontiguousarray(_to_numpy(value))
        digest.update(f"array:{array.dtype.str}:{array.shape}:".encode())
        digest.update(array.tobytes() if array.dtype != object else repr(array.tolist()).encode())
    elif isinstance(value, Mapping):
        digest.update(b"dict{")
        for key in sorted(value, key=str):
            digest.update(f"{key}=".encode())
            _digest_into(digest, value[key])
        digest.update(b"}")
    elif isinstance(value, (tuple, list)):
        digest.update(f"seq{len(value)}[".encode())
        for item in value:
            _digest_into(digest, item)
        digest.update(b"]")
    else:
        try:
            items = iter(value)
        except TypeError:
            array = np.asarray(value)
            digest.update(f"value:{array.dtype.str}:{array.shape}:".encode())
            digest.update(array.tobytes() if array.dtype != object else repr(value).encode())
            return
        digest.update(f"iterable:{type(value).__qualname__}[".encode())
        for item in items:
            _digest_into(digest, item)
        digest.update(b"]")


def _callable_identity(fn: Any) -> str:
    """Name and code of a function, so another preprocess gives another key."""
    import hashlib

    code = getattr(fn, "__code__", None)
    body = hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()[:16] if code else ""
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__qualname__)}:{body}"




def _iter_batches(data: Any, batch_size: int) -> Iterator[Any]:
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        array = _to_numpy(data)
        for start in range(0, array.shape[0], batch_size):
            yield array[start:start + batch_size]
        return
    yield from data


def _check_batch(batch: dict[str, Any], index: int, expected: Mapping[str, Any] | None) -> None:
    import numpy as np

    for name, array in batch.items():
        if array.dtype == object or array.dtype.kind not in "biuf":
            raise UsageError(f"calibration batch {index}: input {name!r} holds {array.dtype} values, "
                             f"not numbers", hint="give numeric arrays")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            bad = int(np.size(array) - np.isfinite(array).sum())
            raise UsageError(f"calibration batch {index}: input {name!r} has {bad} NaN/Inf value(s)",
                             hint="clean the calibration data; one NaN makes every INT8 range NaN")
        spec = (expected or {}).get(name)
        profiles = getattr(spec, "profiles", None)
        if not profiles:
            continue
        lo, hi = profiles[0].min, profiles[-1].max
        ok = array.ndim == len(lo) and all(
            min(p.min[d] for p in profiles) <= array.shape[d] <= max(p.max[d] for p in profiles)
            for d in range(1, array.ndim))
        if not ok:
            want = "x".join(["N"] + [str(v) if v == w else f"{v}..{w}" for v, w in zip(lo[1:], hi[1:])])
            raise UsageError(
                f"calibration batch {index}: input {name!r} has shape "
                f"{'x'.join(map(str, array.shape))}, the model takes {want}",
                hint="give calibration batches shaped like the model's inputs")


def _as_named(batch: Any, input_names: Sequence[str]) -> dict[str, Any]:
    if isinstance(batch, dict):
        unknown = set(batch) - set(input_names)
        if unknown:
            raise UsageError(f"calibration batch names {sorted(unknown)} are not model inputs",
                             hint=f"the inputs are {list(input_names)}")
        return {k: _to_numpy(v) for k, v in batch.items()}
    items = list(batch) if isinstance(batch, (tuple, list)) else [batch]
    if len(items) != len(input_names):
        raise UsageError(
            f"calibration batch has {len(items)} tensors but the model has {len(input_names)} inputs",
            hint="yield a tuple with one array per input, or a dict by input name")
    return {name: _to_numpy(item) for name, item in zip(input_names, items)}
