"""Network snapshots: a populated ``INetworkDefinition`` as portable JSON + weights.

Why: no machine here can run an engine, and the machine that converts is often not the one
that deploys. A snapshot is everything that decides what the network computes (layers in
order, their attributes, tensor names/dtypes/shapes, weights), read back from the network
itself, so it works for any route, including networks filled by NVIDIA's ONNX parser. It
feeds the CPU reference executor (:mod:`trtforge.reference`) and can be *replayed* into a
new network on a machine that has only TensorRT and trtforge core.

Layout: ``graph`` is plain JSON (``format``, ``version``, ``inputs``, ``outputs``,
``profiles``, ``layers``); every weight lives in ``weights`` (saved as ``.npz``), referenced
from an attribute as ``{"weights": KEY}``. Enum attributes are stored by member name, so a
snapshot does not depend on TensorRT's enum numbering.
"""
from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from trtforge.atomic import atomic_write_bytes
from trtforge.verify.layer_kinds import KINDS
from trtforge.errors import EngineFileError, TensorRTError, TrtforgeError

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = "trtforge-network-snapshot"
SNAPSHOT_VERSION = 1
JSON_SUFFIX = ".snapshot.json"
WEIGHTS_SUFFIX = ".snapshot.npz"
CACHE_JSON = "snapshot.json"
CACHE_WEIGHTS = "snapshot.npz"

# Attributes whose value only matters when no input tensor overrides it.
_READ_ONLY = {"is_v2", "is_alpha_beta_int64"}


def _dtype_name(dtype: Any) -> str:
    from trtforge.tensorrt.trt import _DTYPE_NAMES

    return _DTYPE_NAMES.get(dtype.name, dtype.name.lower())


def _dims(value: Any) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(v) for v in value]
    except (TypeError, ValueError):
        return None


@dataclass
class Snapshot:
    """A network as data: ``graph`` (JSON-able) and ``weights`` (name -> numpy array)."""

    graph: dict[str, Any]
    weights: dict[str, np.ndarray] = field(default_factory=dict)

    # --- views ----------------------------------------------------------------------
    @property
    def layers(self) -> list[dict[str, Any]]:
        return list(self.graph["layers"])

    @property
    def inputs(self) -> list[dict[str, Any]]:
        return list(self.graph["inputs"])

    @property
    def outputs(self) -> list[dict[str, Any]]:
        return list(self.graph["outputs"])

    @property
    def profiles(self) -> list[dict[str, Any]]:
        return list(self.graph.get("profiles") or [])

    def tensor_dtypes(self) -> dict[str, str]:
        dtypes = {t["name"]: t["dtype"] for t in self.graph["inputs"]}
        for layer in self.graph["layers"]:
            for out in layer["outputs"]:
                dtypes[out["name"]] = out["dtype"]
        return dtypes

    def weight(self, ref: Any) -> np.ndarray | None:
        """The array an attribute refers to (``{"weights": key}``), or None."""
        if isinstance(ref, dict) and "weights" in ref:
            return self.weights[ref["weights"]]
        return None

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for layer in self.graph["layers"]:
            counts[layer["type"]] = counts.get(layer["type"], 0) + 1
        return dict(sorted(counts.items()))

    # --- binding to a plan -------------------------------------------------------------
    def weights_digest(self) -> str:
        """sha256 over the weights' names, dtypes, shapes and bytes (independent of .npz zip)."""
        import hashlib

        digest = hashlib.sha256()
        for name in sorted(self.weights):
            array = np.ascontiguousarray(self.weights[name])
            digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
            digest.update(array.tobytes())
        return digest.hexdigest()

    def bind_to_plan(self, plan: bytes) -> None:
        """Record the plan's and the weights' sha256 in the graph: a snapshot names its engine."""
        import hashlib

        self.graph["binding"] = {"plan_sha256": hashlib.sha256(plan).hexdigest(),
                                 "weights_sha256": self.weights_digest()}

    def check_binding(self, plan_sha256: str, plan_where: str, where: str) -> None:
        """Refuse a snapshot that was not taken for the plan with ``plan_sha256``."""
        binding = self.graph.get("binding")
        recorded = binding.get("plan_sha256") if isinstance(binding, dict) else None
        if recorded is None:
            raise EngineFileError(
                f"snapshot {where} records no plan hash, so nothing ties it to {plan_where}",
                hint="convert the model again with --snapshot (this trtforge binds the two)")
        if recorded != plan_sha256:
            raise EngineFileError(
                f"snapshot {where} belongs to another plan than {plan_where} (sha256 "
                f"{str(recorded)[:12]}… vs {plan_sha256[:12]}…)",
                hint="the snapshot was copied from another conversion; convert the model again "
                "with --snapshot")

    # --- bytes and files ------------------------------------------------------------
    def json_bytes(self) -> bytes:
        return (json.dumps(self.graph, indent=1, sort_keys=True) + "\n").encode("utf-8")

    def weights_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, **self.weights)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, graph: bytes, weights: bytes, where: str = "snapshot") -> "Snapshot":
        try:
            data = json.loads(graph.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EngineFileError(f"{where}: the snapshot graph is not valid JSON ({exc})",
                                  hint="the file is corrupt; convert the model again") from None
        except RecursionError:
            raise EngineFileError(f"{where}: the snapshot graph nests too deeply",
                                  hint="the file is corrupt; convert the model again") from None
        from trtforge.guard import json_depth_ok

        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
            raise EngineFileError(f"{where} is not a trtforge network snapshot",
                                  hint="give the .snapshot.json written by `trtforge convert --snapshot`")
        if not json_depth_ok(data, 64):
            raise EngineFileError(f"{where}: the snapshot graph nests too deeply",
                                  hint="the file is corrupt; convert the model again")
        if data.get("version") != SNAPSHOT_VERSION:
            raise EngineFileError(
                f"{where} has snapshot version {data.get('version')}, this trtforge reads "
                f"{SNAPSHOT_VERSION}", hint="use the trtforge version that wrote it")
        if not isinstance(data.get("layers"), list) or not isinstance(data.get("inputs"), list) \
                or not isinstance(data.get("outputs"), list):
            raise EngineFileError(f"{where}: the snapshot graph lacks its layers, inputs or outputs",
                                  hint="the file is corrupt; convert the model again")
        try:
            with np.load(io.BytesIO(weights), allow_pickle=False) as archive:
                arrays = {k: archive[k] for k in archive.files}
        except Exception as exc:  # zipfile/numpy raise many kinds for a corrupt archive
            raise EngineFileError(f"{where}: the snapshot weights cannot be read "
                                  f"({type(exc).__name__}: {exc})",
                                  hint="the .npz file is corrupt; convert the model again") from None
        snapshot = cls(graph=data, weights=arrays)
        binding = data.get("binding")
        recorded = binding.get("weights_sha256") if isinstance(binding, dict) else None
        if recorded is not None and recorded != snapshot.weights_digest():
            raise EngineFileError(f"{where}: the snapshot weights (.npz) belong to another snapshot",
                                  hint="copy the .snapshot.json and .snapshot.npz of one conversion "
                                  "together, or convert again")
        return snapshot

    def save(self, path: str | Path) -> tuple[Path, Path]:
        """Write ``PATH.snapshot.json`` and ``PATH.snapshot.npz`` (``PATH`` may be the engine)."""
        graph_path, weights_path = snapshot_paths(path)
        if isinstance(self.graph.get("binding"), dict):  # the pair written stays a pair
            self.graph["binding"]["weights_sha256"] = self.weights_digest()
        atomic_write_bytes(weights_path, self.weights_bytes())
        atomic_write_bytes(graph_path, self.json_bytes())
        return graph_path, weights_path

    @classmethod
    def load(cls, path: str | Path) -> "Snapshot":
        """Read a snapshot given its ``.snapshot.json`` file or the engine path it sits beside."""
        graph_path, weights_path = snapshot_paths(path)
        for p in (graph_path, weights_path):
            if not p.exists() and not (p == weights_path and weight_parts(p)):
                raise EngineFileError(
                    f"no snapshot file {p}",
                    hint="save the engine with engine.save(path, snapshot=True) or "
                    "`trtforge convert ... -o PATH --snapshot`")
        return cls.from_bytes(_read(graph_path), read_weights(weights_path), str(graph_path))

    def cache_files(self) -> dict[str, bytes]:
        return {CACHE_JSON: self.json_bytes(), CACHE_WEIGHTS: self.weights_bytes()}


PART_SUFFIX = ".part"
SNAPSHOT_MAX_BYTES = 8 << 30


def _read(path: Path) -> bytes:
    from trtforge.guard import read_limited

    return read_limited(path, SNAPSHOT_MAX_BYTES, "snapshot file", EngineFileError)


def weight_parts(weights_path: Path) -> list[Path]:
    """``X.npz.part000``, ``X.npz.part001``, ... in order (a large file carried in pieces)."""
    parts = sorted(weights_path.parent.glob(weights_path.name + PART_SUFFIX + "[0-9][0-9][0-9]"))
    return parts


def read_weights(weights_path: Path) -> bytes:
    """The weights file, or its parts joined when only the parts exist."""
    if weights_path.exists():
        return _read(weights_path)
    return b"".join(_read(p) for p in weight_parts(weights_path))


def snapshot_paths(path: str | Path) -> tuple[Path, Path]:
    path = Path(path).expanduser()
    name = path.name
    for suffix in (JSON_SUFFIX, WEIGHTS_SUFFIX):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return path.with_name(name + JSON_SUFFIX), path.with_name(name + WEIGHTS_SUFFIX)


def find_snapshot(path: str | Path) -> Snapshot | None:
    """The snapshot saved beside an engine file or in a cache entry folder, if there is one."""
    path = Path(path).expanduser()
    graph_path, weights_path = snapshot_paths(path)
    if graph_path.is_file() and (weights_path.is_file() or weight_parts(weights_path)):
        return Snapshot.load(path)
    cached = path.parent / CACHE_JSON, path.parent / CACHE_WEIGHTS
    if cached[0].is_file() and cached[1].is_file():
        return Snapshot.from_bytes(_read(cached[0]), _read(cached[1]), str(cached[0]))
    return None


# --- reading a network ----------------------------------------------------------------
class _Reader:
    def __init__(self, trt: Any) -> None:
        self.trt = trt
        self.weights: dict[str, np.ndarray] = {}

    def value(self, layer_index: int, attr: str, raw: Any) -> Any:
        if raw is None or isinstance(raw, (bool, int, float, str)):
            return raw
        if isinstance(raw, np.ndarray):
            key = f"{layer_index}.{attr}"
            # A copy: the array views memory the network or parser owns and frees.
            self.weights[key] = np.array(raw, copy=True, order="C")
            return {"weights": key}
        if isinstance(raw, self.trt.Weights):
            raise TensorRTError(
                f"layer {layer_index}: {attr} holds weights numpy cannot represent (e.g. bf16)",
                hint="keep constant weights in fp32/fp16 and cast in the network")
        if hasattr(raw, "name") and hasattr(raw, "value") and hasattr(type(raw), "__members__"):
            return raw.name
        dims = _dims(raw)
        if dims is not None:
            return dims
        return repr(raw)


def _layer_class(trt: Any, type_name: str) -> Any:
    """The ILayer subclass of ``type_name`` in this TensorRT (None where it has none)."""
    row = KINDS.get(type_name)
    return getattr(trt, row.cls, None) if row is not None else None


def take_snapshot(network: Any, tensorrt: Any = None, profiles: Iterable[Any] = ()) -> Snapshot:
    """Read ``network`` back into a :class:`Snapshot` (the network is left unchanged).

    ``profiles`` are the :class:`~trtforge.conversion.specs.InputSpec` objects (or their dicts) the
    engine is built with; the executor uses their opt shapes for default inputs.
    """
    from trtforge.tensorrt.trt import get_tensorrt

    adapter = tensorrt or get_tensorrt()
    trt = adapter.module
    reader = _Reader(trt)
    seen: set[str] = set()
    layers = []
    for index in range(network.num_layers):
        layer = network.get_layer(index)
        type_name = layer.type.name
        record: dict[str, Any] = {
            "name": layer.name,
            "type": type_name,
            "metadata": getattr(layer, "metadata", "") or "",
            "inputs": [],
            "outputs": [],
            "attrs": {},
        }
        for j in range(layer.num_inputs):
            tensor = layer.get_input(j)
            record["inputs"].append(tensor.name if tensor is not None else None)
        for j in range(layer.num_outputs):
            tensor = layer.get_output(j)
            if tensor.name in seen:
                raise TensorRTError(
                    f"layer {index} ({layer.name}) writes tensor {tensor.name!r}, a name another "
                    f"tensor already has", hint="give every tensor of the network a unique name")
            seen.add(tensor.name)
            record["outputs"].append({"name": tensor.name, "dtype": _dtype_name(tensor.dtype),
                                      "shape": [int(d) for d in tensor.shape]})
        cls = _layer_class(trt, type_name)
        if cls is not None:
            layer.__class__ = cls
            for attr in attributes(type_name):
                source = "type" if attr == "kind" else attr
                try:
                    raw = getattr(layer, source)
                    if callable(raw) and not hasattr(type(raw), "__members__"):
                        raw = raw()  # a few flags are getter methods (is_alpha_beta_int64)
                except (AttributeError, RuntimeError, TypeError, ValueError) as exc:
                    log.debug("layer %s: cannot read %s (%s)", layer.name, attr, exc)
                    continue
                record["attrs"][attr] = reader.value(index, attr, raw)
        layers.append(record)

    def io(tensor: Any) -> dict[str, Any]:
        return {"name": tensor.name, "dtype": _dtype_name(tensor.dtype),
                "shape": [int(d) for d in tensor.shape],
                "shape_tensor": bool(getattr(tensor, "is_shape_tensor", False))}

    graph = {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "tensorrt": {"flavor": adapter.flavor, "version": adapter.version},
        "inputs": [io(network.get_input(i)) for i in range(network.num_inputs)],
        "outputs": [io(network.get_output(i)) for i in range(network.num_outputs)],
        "profiles": [p if isinstance(p, dict) else p.to_dict() for p in profiles],
        "layers": layers,
    }
    return Snapshot(graph=graph, weights=reader.weights)


def topological_order(graph: dict[str, Any]) -> list[int]:
    """Layer indices in an order where every layer comes after the layers it reads.

    Usually the network's own order; NVIDIA's parser sometimes rewires an earlier layer to a
    tensor it creates later (``set_input``), so the order is repaired, keeping it stable.
    """
    import heapq

    producer = {}
    for index, layer in enumerate(graph["layers"]):
        for out in layer["outputs"]:
            producer[out["name"]] = index
    waiting: dict[int, set[int]] = {}
    readers: dict[int, list[int]] = {}
    for index, layer in enumerate(graph["layers"]):
        deps = {producer[n] for n in layer["inputs"] if n is not None and n in producer} - {index}
        waiting[index] = deps
        for dep in deps:
            readers.setdefault(dep, []).append(index)
    ready = [i for i, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order = []
    while ready:
        index = heapq.heappop(ready)
        order.append(index)
        for reader in readers.get(index, ()):
            waiting[reader].discard(index)
            if not waiting[reader]:
                heapq.heappush(ready, reader)
    if len(order) != len(graph["layers"]):
        stuck = [graph["layers"][i]["name"] for i, deps in waiting.items() if deps][:5]
        raise TensorRTError(f"the network has a cycle through layers {stuck}")
    return order


# --- replaying a snapshot -------------------------------------------------------------
# Kinds replay stands in for with a SHUFFLE where this TensorRT lacks them (8.x), as long as
# their axes come from a constant (:meth:`_Replayer.squeeze_as_shuffle`).
SHUFFLE_STAND_INS = ("SQUEEZE", "UNSQUEEZE")


def _late_inputs(kind: str) -> frozenset[int]:
    """Inputs a layer takes through ``set_input`` after it exists; they may come from a layer
    added later (networks are often built that way), which replay wires up once it exists."""
    row = KINDS.get(kind)
    return row.late_inputs if row is not None else frozenset()


def attributes(kind: str) -> tuple[str, ...]:
    """The attributes of layer type ``kind`` that change its result, in replay order."""
    row = KINDS.get(kind)
    return row.attributes if row is not None else ()


def _replay_order(graph: dict[str, Any]) -> list[int]:
    """The network's own order (so replay reproduces it) unless a layer needs, at creation, a
    tensor a later layer makes; then a topological order."""
    available = {t["name"] for t in graph["inputs"]}
    for layer in graph["layers"]:
        late = _late_inputs(layer["type"])
        if any(n is not None and n not in available and j not in late for j, n in enumerate(layer["inputs"])):
            return topological_order(graph)
        available.update(out["name"] for out in layer["outputs"])
    return list(range(len(graph["layers"])))

@dataclass
class ReplayedNetwork:
    """A network rebuilt from a snapshot.

    ``keepalive`` holds the numpy arrays TensorRT's ``Weights`` point into without copying;
    keep this object alive until the network is built.
    """

    network: Any
    keepalive: list[np.ndarray] = field(default_factory=list, repr=False)
    lowered: list[str] = field(default_factory=list)  # layers whose int64 became int32


INT32_RANGE = (-(1 << 31), (1 << 31) - 1)


def int64_fits_int32(array: np.ndarray) -> bool:
    return array.size == 0 or (int(array.min()) >= INT32_RANGE[0] and int(array.max()) <= INT32_RANGE[1])


class _Replayer:
    def __init__(self, adapter: Any, snapshot: Snapshot, network: Any, lower_int64: bool = False) -> None:
        self.adapter = adapter
        self.trt = adapter.module
        self.snapshot = snapshot
        self.network = network
        self.tensors: dict[str, Any] = {}
        self.keepalive: list[np.ndarray] = []
        self.pending: list[tuple[Any, int, str]] = []
        # TensorRT < 10 has no int64 tensors: shape arithmetic and int64 constants become int32.
        self.lower_int64 = lower_int64
        self.lowered: list[str] = []
        self.emulated: set[int] = set()  # layers standing in for a kind this TensorRT lacks
        self.current = ""  # the record being replayed (names the helper layers)
        self._producer_records: dict[str, dict[str, Any]] | None = None

    def constant_values(self, tensor: Any) -> np.ndarray | None:
        """The values of ``tensor`` when a snapshot CONSTANT layer makes it, else None."""
        if self._producer_records is None:
            self._producer_records = {out["name"]: record for record in self.snapshot.graph["layers"]
                                      for out in record["outputs"]}
        record = self._producer_records.get(tensor.name)
        if record is None or record["type"] != "CONSTANT":
            return None
        values = self.snapshot.weight(record["attrs"]["weights"])
        return None if values is None else np.asarray(values)

    def squeeze(self, kind: str, x: Any, axes_tensor: Any) -> Any:
        """SQUEEZE/UNSQUEEZE with this TensorRT's layer, or a SHUFFLE standing in for it."""
        add = getattr(self.network, KINDS[kind].add, None)
        return add(x, axes_tensor) if add is not None else self.squeeze_as_shuffle(kind, x, axes_tensor)

    def squeeze_as_shuffle(self, kind: str, x: Any, axes_tensor: Any) -> Any:
        """SQUEEZE/UNSQUEEZE where this TensorRT has no such layer (< 10): a SHUFFLE to the
        same shape, from the input's dims (or its shape tensor where dims vary)."""
        axes = self.constant_values(axes_tensor)
        if axes is None:
            raise TensorRTError(f"layer {self.current!r}: {self.adapter.facts.label} has no {kind} layer "
                                f"and its axes are computed at run time",
                                hint="build where TensorRT >= 10 is installed")
        dims = [int(d) for d in x.shape]
        count = int(axes.size)
        out_rank = len(dims) - count if kind == "SQUEEZE" else len(dims) + count
        chosen = {int(a) % (len(dims) if kind == "SQUEEZE" else out_rank) for a in axes.reshape(-1)}
        if kind == "SQUEEZE":
            picks = [d for d in range(len(dims)) if d not in chosen]
        else:  # index len(dims) stands for an inserted 1
            inputs = iter(range(len(dims)))
            picks = [len(dims) if d in chosen else next(inputs) for d in range(out_rank)]
        shuffle = self.network.add_shuffle(x)
        shuffle.zero_is_placeholder = False  # a 0 in the new dims is an empty dim, as in SQUEEZE
        padded = [*dims, 1]
        if all(d >= 0 for d in dims):
            shuffle.reshape_dims = tuple(padded[k] for k in picks)
        else:
            shape = self.network.add_shape(x)
            shape.name = f"{self.current}/as_shuffle/shape"
            shape_out = shape.get_output(0)
            int64 = getattr(self.trt.DataType, "INT64", None)
            index_dtype = np.int64 if int64 is not None and shape_out.dtype == int64 else np.int32
            one = np.ones(1, index_dtype)
            picked = np.asarray(picks, np.int32)
            self.keepalive.extend([one, picked])
            one_layer = self.network.add_constant((1,), self.trt.Weights(one))
            one_layer.name = f"{self.current}/as_shuffle/one"
            concat = self.network.add_concatenation([shape_out, one_layer.get_output(0)])
            concat.axis = 0
            concat.name = f"{self.current}/as_shuffle/dims"
            picks_layer = self.network.add_constant((len(picks),), self.trt.Weights(picked))
            picks_layer.name = f"{self.current}/as_shuffle/picks"
            gather = self.network.add_gather(concat.get_output(0), picks_layer.get_output(0), 0)
            gather.name = f"{self.current}/as_shuffle/new_dims"
            shuffle.set_input(1, gather.get_output(0))
        self.emulated.add(id(shuffle))
        return shuffle

    def weights(self, ref: Any) -> Any:
        array = self.snapshot.weight(ref)
        if array is None:
            return self.trt.Weights()
        array = np.ascontiguousarray(array)
        if self.lower_int64 and array.dtype == np.int64:
            if not int64_fits_int32(array):
                raise TensorRTError(f"int64 weights {ref['weights']} do not fit in int32",
                                    hint="this TensorRT has no int64 tensors; build where it has")
            array = array.astype(np.int32)
        self.keepalive.append(array)
        if array.size == 0:
            return self.trt.Weights(self.adapter.trt_dtype(_canonical(array.dtype)))
        return self.trt.Weights(array)

    def enum(self, enum_name: str, member: str) -> Any:
        if self.lower_int64 and enum_name == "DataType" and member == "INT64":
            member = "INT32"
        return getattr(self.trt, enum_name).__members__[member]

    def lower_outputs(self, layer: Any, record: dict[str, Any]) -> None:
        """Note a lowered layer; cast a (RTX/10.x) int64 shape output to int32 when lowering."""
        if not self.lower_int64:
            return
        if any(out["dtype"] == "int64" for out in record["outputs"]):
            self.lowered.append(record["name"])
        int64 = getattr(self.trt.DataType, "INT64", None)
        for j, out in enumerate(record["outputs"]):
            tensor = layer.get_output(j)
            if int64 is not None and tensor.dtype == int64:
                tensor.name = out["name"] + "__int64"
                cast = self.network.add_cast(tensor, self.trt.DataType.INT32)
                cast.name = record["name"] + "__to_int32"
                cast.get_output(0).name = out["name"]
                self.tensors[out["name"]] = cast.get_output(0)

    def tensor(self, name: str | None) -> Any:
        if name is None:
            return None
        try:
            return self.tensors[name]
        except KeyError:
            raise TensorRTError(f"snapshot refers to tensor {name!r} before any layer makes it",
                                hint="the snapshot is corrupt or was edited by hand") from None

    def create(self, record: dict[str, Any]) -> Any:
        kind = record["type"]
        builder = _CREATORS.get(kind)
        if builder is None:
            raise TensorRTError(
                f"layer {record['name']!r}: replay of {kind} layers is not supported",
                hint=f"replay supports {', '.join(sorted(_CREATORS))}")
        late = _late_inputs(kind)
        ins = [self.tensors.get(n) if j in late else self.tensor(n) for j, n in enumerate(record["inputs"])]
        self.current = record["name"]
        return builder(self, record["attrs"], ins)

    def resolve_pending(self) -> None:
        still = []
        for layer, j, name in self.pending:
            if name in self.tensors:
                layer.set_input(j, self.tensors[name])
            else:
                still.append((layer, j, name))
        self.pending = still

    def apply(self, layer: Any, record: dict[str, Any]) -> None:
        kind = record["type"]
        cls = _layer_class(self.trt, kind)
        if cls is not None:
            layer.__class__ = cls
        ins = record["inputs"]
        if id(layer) in self.emulated:
            ins = ins[:1]  # the stand-in takes the data input only (its own shape input stays)
        for j, name in enumerate(ins):
            if name is None:
                continue
            if name not in self.tensors:  # made by a later layer (see _replay_order)
                self.pending.append((layer, j, name))
                continue
            current = layer.get_input(j) if j < layer.num_inputs else None
            if current is None or current.name != name:
                layer.set_input(j, self.tensor(name))
        attrs = record["attrs"]
        for attr in attributes(kind):
            if attr not in attrs or attr in _READ_ONLY or attr == "kind":
                continue
            value = attrs[attr]
            if value is None:
                continue
            if self.lower_int64 and value == "INT64":
                value = "INT32"  # an int64 output type (TopK/NonZero indices, Cast, Fill)
            if not hasattr(layer, attr) and is_implicit(kind, attr, value, _rank(record)):
                continue  # an older TensorRT without this attribute does what the default does
            if kind == "RESIZE" and attr in ("shape", "scales"):
                continue
            current = getattr(layer, attr)
            if isinstance(value, dict):
                if self.snapshot.weight(value).size == 0:
                    continue
                setattr(layer, attr, self.weights(value))
            elif isinstance(value, str) and hasattr(type(current), "__members__"):
                setattr(layer, attr, type(current).__members__[value])
            elif isinstance(value, list):
                setattr(layer, attr, tuple(value))
            else:
                setattr(layer, attr, value)
        if kind == "RESIZE" and len(ins) < 2:
            if attrs.get("scales"):
                layer.scales = list(attrs["scales"])
            elif attrs.get("shape"):
                layer.shape = tuple(attrs["shape"])
        layer.name = record["name"]
        if record.get("metadata"):
            layer.metadata = record["metadata"]
        for j, out in enumerate(record["outputs"]):
            tensor = layer.get_output(j)
            tensor.name = out["name"]
            self.tensors[out["name"]] = tensor


def _canonical(dtype: np.dtype) -> str:
    from trtforge.conversion.specs import canonical_dtype

    return canonical_dtype(dtype)


Creator = Callable[[_Replayer, dict[str, Any], list[Any]], Any]


def _conv(r: _Replayer, a: dict[str, Any], ins: list[Any], deconv: bool) -> Any:
    add = r.network.add_deconvolution_nd if deconv else r.network.add_convolution_nd
    return add(ins[0], a["num_output_maps"], tuple(a["kernel_size_nd"]), r.weights(a.get("kernel")),
               r.weights(a.get("bias")))


def _normalization(r: _Replayer, a: dict[str, Any], ins: list[Any]) -> Any:
    add = r.network.add_normalization_v2 if a.get("is_v2") else r.network.add_normalization
    return add(ins[0], ins[1], ins[2], a["axes"])


def _scale(r: _Replayer, a: dict[str, Any], ins: list[Any]) -> Any:
    return r.network.add_scale_nd(ins[0], r.enum("ScaleMode", a["mode"]), r.weights(a.get("shift")),
                                  r.weights(a.get("scale")), r.weights(a.get("power")),
                                  a["channel_axis"])


def _rank(record: dict[str, Any]) -> int | None:
    outputs = record.get("outputs") or []
    return len(outputs[0]["shape"]) if outputs else None


def is_implicit(kind: str, attr: str, value: Any, rank: int | None = None) -> bool:
    """Whether ``value`` is what a TensorRT without the attribute does anyway (8.x vs 10+)."""
    if value is None or value is False or value == 0 or value == "" or value == []:
        return True
    row = KINDS.get(kind)
    if row is not None and row.implicit.get(attr) == value:
        return True
    # Slice over every axis in order (10+ records it; 8.x slices all axes).
    return (kind == "SLICE" and attr == "axes" and isinstance(value, list)
            and value == list(range(len(value))) and (rank is None or len(value) == rank))


def _typed(r: _Replayer, kind: str, a: dict[str, Any], add: Callable[..., Any], *args: Any) -> Any:
    """Call ``add`` with the output type where this TensorRT takes one (10+), else without.

    The same fact as the adapter's ``add_quantize``; a snapshot taken on 8.x records no output
    type, which is the implicit one."""
    implicit = KINDS[kind].implicit["to_type"]
    if r.adapter.facts.layers_take_output_type:
        return add(*args, r.enum("DataType", a.get("to_type") or implicit))
    if a.get("to_type") not in (None, implicit):
        raise TensorRTError(f"{r.adapter.facts.label} {kind} layers cannot output {a['to_type']}")
    return add(*args)


_CREATORS: dict[str, Creator] = {
    "ACTIVATION": lambda r, a, i: r.network.add_activation(i[0], r.enum("ActivationType", a["kind"])),
    "ASSERTION": lambda r, a, i: r.network.add_assertion(i[0], a.get("message", "")),
    "CAST": lambda r, a, i: r.network.add_cast(i[0], r.enum("DataType", a["to_type"])),
    "CONCATENATION": lambda r, a, i: r.network.add_concatenation(i),
    "CONSTANT": lambda r, a, i: r.network.add_constant(tuple(a["shape"]), r.weights(a["weights"])),
    "CONVOLUTION": lambda r, a, i: _conv(r, a, i, False),
    "DECONVOLUTION": lambda r, a, i: _conv(r, a, i, True),
    "CUMULATIVE": lambda r, a, i: r.network.add_cumulative(
        i[0], i[1], r.enum("CumulativeOperation", a["op"]), a["exclusive"], a["reverse"]),
    "DEQUANTIZE": lambda r, a, i: _typed(r, "DEQUANTIZE", a, r.network.add_dequantize, i[0], i[1]),
    "QUANTIZE": lambda r, a, i: _typed(r, "QUANTIZE", a, r.network.add_quantize, i[0], i[1]),
    "EINSUM": lambda r, a, i: r.network.add_einsum(i, a["equation"]),
    "ELEMENTWISE": lambda r, a, i: r.network.add_elementwise(
        i[0], i[1], r.enum("ElementWiseOperation", a["op"])),
    "FILL": lambda r, a, i: _typed(r, "FILL", a, r.network.add_fill, tuple(a["shape"] or ()),
                                   r.enum("FillOperation", a["operation"])),
    "GATHER": lambda r, a, i: r.network.add_gather_v2(i[0], i[1], r.enum("GatherMode", a["mode"])),
    "GRID_SAMPLE": lambda r, a, i: r.network.add_grid_sample(i[0], i[1]),
    "IDENTITY": lambda r, a, i: r.network.add_identity(i[0]),
    "LRN": lambda r, a, i: r.network.add_lrn(i[0], a["window_size"], a["alpha"], a["beta"], a["k"]),
    "MATRIX_MULTIPLY": lambda r, a, i: r.network.add_matrix_multiply(
        i[0], r.enum("MatrixOperation", a["op0"]), i[1], r.enum("MatrixOperation", a["op1"])),
    "NON_ZERO": lambda r, a, i: r.network.add_non_zero(i[0]),
    "NORMALIZATION": _normalization,
    "ONE_HOT": lambda r, a, i: r.network.add_one_hot(i[0], i[1], i[2], a["axis"]),
    "PADDING": lambda r, a, i: r.network.add_padding_nd(
        i[0], tuple(a["pre_padding_nd"]), tuple(a["post_padding_nd"])),
    "PARAMETRIC_RELU": lambda r, a, i: r.network.add_parametric_relu(i[0], i[1]),
    "POOLING": lambda r, a, i: r.network.add_pooling_nd(
        i[0], r.enum("PoolingType", a["kind"]), tuple(a["window_size_nd"])),
    "REDUCE": lambda r, a, i: r.network.add_reduce(
        i[0], r.enum("ReduceOperation", a["op"]), a["axes"], a["keep_dims"]),
    "RESIZE": lambda r, a, i: r.network.add_resize(i[0]),
    "SCALE": _scale,
    "SCATTER": lambda r, a, i: r.network.add_scatter(i[0], i[1], i[2], r.enum("ScatterMode", a["mode"])),
    "SELECT": lambda r, a, i: r.network.add_select(i[0], i[1], i[2]),
    "SHAPE": lambda r, a, i: r.network.add_shape(i[0]),
    "SHUFFLE": lambda r, a, i: r.network.add_shuffle(i[0]),
    "SLICE": lambda r, a, i: r.network.add_slice(
        i[0], tuple(a["start"] or ()), tuple(a["shape"] or ()), tuple(a["stride"] or ())),
    "SOFTMAX": lambda r, a, i: r.network.add_softmax(i[0]),
    "SQUEEZE": lambda r, a, i: r.squeeze("SQUEEZE", i[0], i[1]),
    "TOPK": lambda r, a, i: r.network.add_topk(i[0], r.enum("TopKOperation", a["op"]), a["k"], a["axes"]),
    "UNARY": lambda r, a, i: r.network.add_unary(i[0], r.enum("UnaryOperation", a["op"])),
    "UNSQUEEZE": lambda r, a, i: r.squeeze("UNSQUEEZE", i[0], i[1]),
}


def replay(snapshot: Snapshot, tensorrt: Any = None, network: Any = None,
           lower_int64: bool | None = None) -> ReplayedNetwork:
    """Rebuild the snapshot's network (in ``network``, or a new one from the adapter).

    ``lower_int64`` (default: when this TensorRT has no int64 tensors, i.e. < 10) replays int64
    shape arithmetic and constants as int32; network inputs/outputs keep their types.
    """
    from trtforge.tensorrt.trt import get_tensorrt

    adapter = tensorrt or get_tensorrt()
    network = network if network is not None else adapter.create_network()
    if lower_int64 is None:
        lower_int64 = not hasattr(adapter.module.DataType, "INT64")
    replayer = _Replayer(adapter, snapshot, network, lower_int64=lower_int64)
    for spec in snapshot.graph["inputs"]:
        tensor = network.add_input(spec["name"], adapter.trt_dtype(spec["dtype"]), tuple(spec["shape"]))
        replayer.tensors[spec["name"]] = tensor
    layers = snapshot.graph["layers"]
    for record in (layers[i] for i in _replay_order(snapshot.graph)):
        try:
            layer = replayer.create(record)
            if layer is None:
                raise TensorRTError(f"TensorRT refused to add layer {record['name']!r} ({record['type']})")
            replayer.apply(layer, record)
            replayer.lower_outputs(layer, record)
            replayer.resolve_pending()
        except TensorRTError:
            raise
        except Exception as exc:
            raise TensorRTError(
                f"replay of layer {record['name']!r} ({record['type']}) failed: "
                f"{type(exc).__name__}: {exc}",
                hint="the snapshot may come from another TensorRT version") from exc
    for spec in snapshot.graph["outputs"]:
        tensor = replayer.tensor(spec["name"])
        if spec.get("shape_tensor") and hasattr(network, "mark_output_for_shapes"):
            network.mark_output_for_shapes(tensor)
        else:
            network.mark_output(tensor)
    return ReplayedNetwork(network=network, keepalive=replayer.keepalive, lowered=replayer.lowered)


# --- engines and the cache ------------------------------------------------------------
class _LazyCacheFiles(Mapping[str, bytes]):
    """The snapshot's cache files, serialized only when the cache writes them."""

    def __init__(self, snapshot: Snapshot, others: Mapping[str, bytes]) -> None:
        self._snapshot = snapshot
        self._others = dict(others)

    def __getitem__(self, key: str) -> bytes:
        if key in self._others:
            return self._others[key]
        if key == CACHE_JSON:
            return self._snapshot.json_bytes()
        if key == CACHE_WEIGHTS:
            return self._snapshot.weights_bytes()
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter([*self._others, CACHE_JSON, CACHE_WEIGHTS])

    def __len__(self) -> int:
        return len(self._others) + 2


def reconcile_weights(snapshot: Snapshot | None, handed: Mapping[str, Mapping[str, Any]] | None,
                      route: str) -> tuple[Snapshot | None, str | None]:
    """Check the weights read back from the network against those the route handed TensorRT.

    TensorRT 8.6 (H200, 2026-12-02) returns, for a network its ONNX parser filled, weight
    arrays (``layer.kernel``, ``layer.weights``) that differ from the model's initializers
    although the engine it builds is right: the read-back points at memory the parser no
    longer holds. Where any array differs, the handed arrays replace what was read; if some
    weights were read that the route did not hand over (the parser's own, e.g. folded batch
    norms), the snapshot cannot be trusted and is dropped with a warning naming them.
    Returns the snapshot (or None) and a note for the engine's metadata when anything changed.
    """
    if snapshot is None or not handed:
        return snapshot, None

    def handed_for(layer: dict[str, Any], attr: str, read: np.ndarray) -> np.ndarray | None:
        want = handed.get(layer["name"], {}).get(attr)
        if want is None or np.asarray(want).size != read.size:
            return None
        return np.ascontiguousarray(np.asarray(want).astype(read.dtype, copy=False).reshape(read.shape))

    read_back = [(layer, attr, value["weights"]) for layer in snapshot.graph["layers"]
                 for attr, value in layer["attrs"].items()
                 if isinstance(value, dict) and "weights" in value
                 and snapshot.weights.get(value["weights"]) is not None
                 and snapshot.weights[value["weights"]].size > 0]
    uncovered: list[str] = []
    differing: list[str] = []
    for layer, attr, key in read_back:  # compared one array at a time: no second copy of the model
        read = snapshot.weights[key]
        want = handed_for(layer, attr, read)
        if want is None:
            uncovered.append(f"{layer['name']} ({layer['type']}.{attr})")
        elif not np.array_equal(want, read, equal_nan=read.dtype.kind == "f"):
            differing.append(f"{layer['name']}.{attr}")
    if not differing:
        return snapshot, None
    version = snapshot.graph.get("tensorrt", {}).get("version", "")
    if uncovered:
        note = (f"no network snapshot: TensorRT {version} read back {len(differing)} weight array(s) that "
                f"differ from the ones the route gave it, and {len(uncovered)} it cannot check ("
                + ", ".join(uncovered[:5]) + (", ..." if len(uncovered) > 5 else "") + ")")
        log.warning("route %s: %s; `trtforge check` and `trtforge build SNAPSHOT` will not work for "
                    "this engine (a conversion with TensorRT-RTX makes a snapshot to rebuild here)",
                    route, note)
        return None, note
    for layer, attr, key in read_back:
        snapshot.weights[key] = handed_for(layer, attr, snapshot.weights[key])
    note = (f"snapshot: {len(differing)} weight array(s) TensorRT {version} read back differed from the "
            f"ones the route gave it (first: {', '.join(differing[:3])}); the snapshot holds the route's")
    log.info("route %s: %s", route, note)
    return snapshot, note


def snapshot_for_engine(network: Any, tensorrt: Any, profiles: Iterable[Any], route: str) -> Snapshot | None:
    """Take the snapshot during a conversion; a network it cannot read only costs a warning."""
    try:
        return take_snapshot(network, tensorrt, profiles=profiles)
    except TrtforgeError as exc:
        log.warning("route %s: no network snapshot (%s); `trtforge check` will not work for this "
                    "engine", route, exc.message)
        return None


def attach_snapshot(engine: Any, snapshot: Snapshot | None) -> None:
    """Keep ``snapshot`` on the engine, and hand its files to the engine cache."""
    if snapshot is None:
        return
    # Where the network came from, so `trtforge build SNAPSHOT` elsewhere can say so.
    meta = getattr(engine, "metadata", {}) or {}
    snapshot.graph.setdefault("origin", {k: meta.get(k) for k in ("route", "precision", "source", "target")})
    snapshot.bind_to_plan(engine.plan)
    engine.extras["snapshot"] = snapshot
    engine.extras["cache_files"] = _LazyCacheFiles(snapshot, engine.extras.get("cache_files") or {})


def engine_snapshot(engine: Any) -> Snapshot | None:
    """The engine's snapshot: kept in memory, in its cache entry, or saved beside its file."""
    found = engine.extras.get("snapshot")
    if found is not None:
        return found
    where = None
    if engine.extras.get("snapshot_files"):
        graph_path, weights_path = (Path(p) for p in engine.extras["snapshot_files"])
        found = Snapshot.from_bytes(_read(graph_path), _read(weights_path), str(graph_path))
        where = str(graph_path)
    if found is None and getattr(engine, "path", None) is not None:
        found = find_snapshot(engine.path)
        beside = snapshot_paths(engine.path)[0]
        where = str(beside if beside.is_file() else Path(engine.path).parent / CACHE_JSON)
    if found is not None:
        plan_sha = (engine.metadata.get("plan") or {}).get("sha256")
        if not isinstance(plan_sha, str):
            import hashlib

            plan_sha = hashlib.sha256(engine.plan).hexdigest()  # what engine.plan_digest records
        found.check_binding(plan_sha, str(getattr(engine, "path", None) or "the engine"), where or "?")
        engine.extras["snapshot"] = found
    return found


def cached_snapshot_files(entry: Path) -> tuple[str, str] | None:
    """The snapshot files of a cache entry folder, if it has them (read lazily later)."""
    graph_path, weights_path = entry / CACHE_JSON, entry / CACHE_WEIGHTS
    if graph_path.is_file() and weights_path.is_file():
        return str(graph_path), str(weights_path)
    return None
