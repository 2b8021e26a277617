"""Triton model repository export: ``REPO/<name>/1/model.plan`` plus ``config.pbtxt``.

Everything in the configuration is read from the engine's sidecar (tensor names, dtypes,
shapes, optimization profiles), never guessed, and checked against what Triton's TensorRT
backend enforces when it loads the model (``model_config_utils.cc`` in Triton's core,
``model_state.cc``/``instance_state.cc`` in its tensorrt_backend), so a refusal happens here,
with the reason, instead of in the server log:

- **Batching.** When every input and output has a dynamic first dimension, it is Triton's batch
  dimension: ``dims`` leave it out and ``max_batch_size`` is the largest B such that every
  batch 1..B fits some optimization profile (Triton picks, per request, the profile that
  contains the shapes). With several profiles that is their covered union, not the smallest
  profile's max. A ``--max-batch`` above it is refused; ``--max-batch 0`` exports full dims
  (``-1`` first) without batching. Fixed-shape engines get ``max_batch_size: 0`` and full dims.
- **A profile whose batch starts above 1** (e.g. 4..16 only): Triton's batcher sends batches of
  every size from 1, so batching is refused (use ``--max-batch 0``, or rebuild with min 1).
- **Several profiles**: one instance group lists them all (``profile: ["0", "1", ...]``,
  ``ModelInstanceGroup.profile``), else Triton uses profile 0 only.
- **Dynamic batching**: ``preferred_batch_size`` are the profiles' opt batches above 1 (an opt
  of 1 would make the batcher send requests alone; without any, Triton prefers max_batch_size).
- **Refused**: data types Triton has none for (float8, int4, ...), scalar tensors without a
  batch dim, a dimension of 0, model names Triton cannot use as a folder name.
- A tensor of shape ``[batch]`` is described as ``dims: [1]`` with ``reshape: { shape: [] }``,
  Triton's documented way (its dims may not be empty).

Shape tensors (``is_shape_tensor``) and ensembles of hybrid programs are not exported.
The folder is built in a staging folder next to it and renamed into place: all or nothing.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from trtforge.errors import EngineFileError, ExportError, UsageError

log = logging.getLogger(__name__)

PLATFORM = "tensorrt_plan"
PLAN_NAME = "model.plan"
CONFIG_NAME = "config.pbtxt"
README_NAME = "README.md"
VERSION = "1"
# trtforge dtype -> Triton DataType (model_config.proto); anything else has no Triton type.
TRITON_TYPES = {
    "float32": "TYPE_FP32", "float16": "TYPE_FP16", "bfloat16": "TYPE_BF16", "int8": "TYPE_INT8",
    "uint8": "TYPE_UINT8", "int32": "TYPE_INT32", "int64": "TYPE_INT64", "bool": "TYPE_BOOL",
}
# A folder name on every filesystem Triton reads from, and never hidden or a path.
_MODEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class TritonTensor:
    name: str
    data_type: str
    dims: tuple[int, ...]
    reshape: tuple[int, ...] | None = None  # set only for [batch]-shaped tensors


@dataclass(frozen=True)
class BatchRange:
    """The batch sizes one optimization profile takes (the same for every input)."""

    profile: int
    min: int
    opt: int
    max: int


@dataclass(frozen=True)
class TritonConfig:
    """What ``config.pbtxt`` says, as data (``to_pbtxt`` renders it)."""

    name: str
    max_batch_size: int
    inputs: tuple[TritonTensor, ...]
    outputs: tuple[TritonTensor, ...]
    instances: int = 1
    profiles: tuple[str, ...] = ()
    dynamic_batching: bool = False
    preferred_batch_sizes: tuple[int, ...] = ()
    batch_ranges: tuple[BatchRange, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_pbtxt(self, header: Sequence[str] = ()) -> str:
        lines = [f"# {line}" for line in header]
        lines += [f"name: {_string(self.name)}", f'platform: "{PLATFORM}"',
                  f"max_batch_size: {self.max_batch_size}"]
        lines += _tensors("input", self.inputs) + _tensors("output", self.outputs)
        group = ["  {", f"    count: {self.instances}", "    kind: KIND_GPU"]
        if self.profiles:
            group.append(f"    profile: [ {', '.join(_string(p) for p in self.profiles)} ]")
        lines += ["instance_group ["] + group + ["  }", "]"]
        if self.dynamic_batching:
            lines.append("dynamic_batching {")
            if self.preferred_batch_sizes:
                sizes = ", ".join(str(s) for s in self.preferred_batch_sizes)
                lines.append(f"  preferred_batch_size: [ {sizes} ]")
            lines.append("}")
        return "\n".join(lines) + "\n"


def _string(text: str) -> str:
    """A protobuf text-format string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tensors(kind: str, tensors: Sequence[TritonTensor]) -> list[str]:
    blocks = []
    for tensor in tensors:
        body = [f"    name: {_string(tensor.name)}", f"    data_type: {tensor.data_type}",
                f"    dims: [ {', '.join(str(d) for d in tensor.dims)} ]"]
        if tensor.reshape is not None:
            body.append(f"    reshape: {{ shape: [ {', '.join(str(d) for d in tensor.reshape)} ] }}")
        blocks.append("\n".join(["  {", *body, "  }"]))
    return [f"{kind} [", ",\n".join(blocks), "]"]


# --- reading the engine -------------------------------------------------------------------
def check_model_name(name: str) -> str:
    """Refuse names Triton cannot load: the folder name must equal the configured name."""
    if not isinstance(name, str) or not _MODEL_NAME.fullmatch(name) or name in (".", ".."):
        raise UsageError(
            f"--name {name!r} cannot be a Triton model name",
            hint="use letters, digits, '_', '-' and '.', starting with a letter, digit or '_' "
                 "(it is also the model's folder name; no '/', spaces or leading '.')")
    return name


def default_name(text: str) -> str:
    """A valid model name made from an engine file or model name (``resnet50.engine``,
    ``models/net.onnx``, ``model.py:build``, ``torchvision:resnet50``)."""
    stem = Path(str(text)).name
    stem = stem.removeprefix("torchvision:").split(":")[0] or stem
    for suffix in (".engine", ".plan", ".trt", ".onnx", ".py", ".keras", ".h5", ".pb"):
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)]
            break
    stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", stem).lstrip(".") or "model"
    return stem[:200]


def _tensor_list(metadata: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    tensors = list(metadata.get(key) or [])
    if not tensors:
        raise EngineFileError(f"the engine's sidecar lists no {key}",
                              hint="rebuild the engine with this trtforge")
    for tensor in tensors:
        name = tensor.get("name")
        if not isinstance(name, str) or not name or _CONTROL.search(name):
            raise ExportError(f"engine {key[:-1]} name {name!r} cannot be a Triton tensor name",
                              hint="name the tensor in the source model (no control characters)")
        dims = [int(d) for d in tensor.get("shape") or []]
        if any(d < -1 for d in dims):
            raise EngineFileError(f"engine tensor {name!r} has an invalid shape {dims}",
                                  hint="the sidecar is corrupt; rebuild the engine")
        if 0 in dims:
            raise ExportError(f"engine tensor {name!r} has a dimension of 0 ({dims}); Triton "
                              "takes dimensions >= 1 or -1", hint="rebuild without empty dimensions")
        if tensor.get("dtype") not in TRITON_TYPES:
            raise ExportError(
                f"engine tensor {name!r} is {tensor.get('dtype')}, which Triton has no data type for",
                hint=f"Triton takes {', '.join(TRITON_TYPES)}; cast it in the model")
    return tensors


def check_options(max_batch: int | None = None, instances: int = 1,
                  dynamic_batching: bool = False) -> None:
    """The checks that need no engine (``optimize`` runs them before converting anything)."""
    if isinstance(instances, bool) or not isinstance(instances, int) or instances < 1:
        raise UsageError(f"--instances {instances!r} must be 1 or more",
                         hint="the number of copies of the model per GPU")
    if max_batch is not None and (isinstance(max_batch, bool) or not isinstance(max_batch, int)
                                  or max_batch < 0):
        raise UsageError(f"--max-batch {max_batch!r} must be 0 or more",
                         hint="0 exports without Triton batching; leave it out to use the profiles'")
    if dynamic_batching and max_batch == 0:
        raise UsageError("--dynamic-batching needs a batch dimension (max_batch_size above 0)",
                         hint="leave out --dynamic-batching or --max-batch 0")


def batch_ranges(metadata: Mapping[str, Any]) -> list[BatchRange] | None:
    """Per profile, the batch sizes every input takes; None when the engine has no batch
    dimension (some input or output has a fixed or no first dimension)."""
    inputs, outputs = _tensor_list(metadata, "inputs"), _tensor_list(metadata, "outputs")
    if not all(t["shape"] and int(t["shape"][0]) == -1 for t in inputs + outputs):
        return None
    by_name = {p.get("name"): p.get("profiles") or [] for p in metadata.get("profiles") or []}
    counts = {len(by_name.get(t["name"]) or []) for t in inputs}
    if 0 in counts or len(counts) != 1:
        raise EngineFileError(
            "the engine's sidecar does not give every dynamic input the same number of "
            f"optimization profiles ({sorted(counts)})", hint="rebuild the engine with this trtforge")
    ranges = []
    for index in range(counts.pop()):
        shapes = [by_name[t["name"]][index] for t in inputs]
        lo = max(int(s["min"][0]) for s in shapes)
        hi = min(int(s["max"][0]) for s in shapes)
        opt = min(max(int(shapes[0]["opt"][0]), lo), hi) if lo <= hi else lo
        ranges.append(BatchRange(index, lo, opt, hi))
    return ranges


def covered_batch(ranges: Sequence[BatchRange]) -> int:
    """Largest B such that every batch 1..B fits some profile (0 when batch 1 fits none)."""
    covered = 0
    for r in sorted((r for r in ranges if r.min <= r.max), key=lambda r: r.min):
        if r.min > covered + 1:
            break
        covered = max(covered, r.max)
    return covered


def _describe(ranges: Sequence[BatchRange]) -> str:
    return ", ".join(f"profile {r.profile}: {r.min}..{r.max}" for r in ranges)


def config_for(metadata: Mapping[str, Any], *, name: str, max_batch: int | None = None,
               instances: int = 1, dynamic_batching: bool = False) -> TritonConfig:
    """The Triton configuration of an engine, or the error Triton's loader would raise."""
    check_model_name(name)
    check_options(max_batch, instances, dynamic_batching)
    inputs, outputs = _tensor_list(metadata, "inputs"), _tensor_list(metadata, "outputs")
    names = [t["name"] for t in inputs + outputs]
    if len(set(names)) != len(names):
        shared = sorted({n for n in names if names.count(n) > 1})
        raise ExportError(f"engine tensors share a name ({', '.join(shared)})",
                          hint="Triton addresses inputs and outputs by name; rename them in the model")
    ranges = batch_ranges(metadata)
    notes: list[str] = []
    n_profiles = len(ranges) if ranges is not None else _profile_count(metadata)
    if ranges is None:
        if max_batch:
            shapes = ", ".join(f"{t['name']} {list(t['shape'])}" for t in inputs + outputs)
            raise UsageError(
                f"--max-batch {max_batch}: the engine has no dynamic batch dimension shared by all "
                f"inputs and outputs ({shapes})",
                hint="export it without --max-batch (max_batch_size 0, full shapes), or rebuild "
                     "with a dynamic first dimension (--input NAME:MIN,OPT,MAX)")
        size = 0
        notes.append("no dynamic batch dimension: max_batch_size 0, dims are the full shapes")
    else:
        covered = covered_batch(ranges)
        if max_batch == 0:
            size = 0
            notes.append("exported with --max-batch 0: clients send whole batches in the first "
                         "dimension (-1), Triton does not batch")
        elif covered == 0:
            raise ExportError(
                f"no optimization profile takes a batch of 1 ({_describe(ranges)}); Triton's "
                "batcher sends every batch size from 1 up to max_batch_size",
                hint="export with --max-batch 0 (no Triton batching, clients send whole batches) "
                     "or rebuild with a profile whose batch starts at 1")
        elif max_batch is not None and max_batch > covered:
            raise UsageError(
                f"--max-batch {max_batch} is above the largest batch the engine's profiles take "
                f"without a gap ({covered}; {_describe(ranges)})",
                hint=f"use --max-batch {covered} or less, or rebuild with a larger profile")
        else:
            size = covered if max_batch is None else max_batch
            notes.append(f"batch dimension: every input's first dimension; max_batch_size {size} "
                         f"({_describe(ranges)})")
    if dynamic_batching and size == 0:
        raise UsageError("--dynamic-batching needs a batch dimension (max_batch_size above 0)",
                         hint="leave out --dynamic-batching, or export a dynamic-batch engine "
                              "without --max-batch 0")
    batching = size > 0
    preferred: tuple[int, ...] = ()
    if dynamic_batching and ranges is not None:
        preferred = tuple(sorted({r.opt for r in ranges if 1 < r.opt <= size and r.min <= r.opt}))
        if not preferred:
            notes.append("dynamic batching without preferred sizes: every profile's opt batch is 1 "
                         "(Triton then prefers max_batch_size)")
    return TritonConfig(
        name=name, max_batch_size=size,
        inputs=tuple(_triton_tensor(t, batching, "input") for t in inputs),
        outputs=tuple(_triton_tensor(t, batching, "output") for t in outputs),
        instances=instances,
        profiles=tuple(str(i) for i in range(n_profiles)) if n_profiles > 1 else (),
        dynamic_batching=dynamic_batching, preferred_batch_sizes=preferred,
        batch_ranges=tuple(ranges or ()), notes=tuple(notes))


def _profile_count(metadata: Mapping[str, Any]) -> int:
    counts = [len(p.get("profiles") or []) for p in metadata.get("profiles") or []]
    return max(counts) if counts else 1


def _triton_tensor(tensor: Mapping[str, Any], batching: bool, kind: str) -> TritonTensor:
    shape = [int(d) for d in tensor["shape"]]
    dtype = TRITON_TYPES[tensor["dtype"]]
    if batching:
        if len(shape) == 1:  # [batch]: dims may not be empty, so [1] reshaped to []
            return TritonTensor(tensor["name"], dtype, (1,), reshape=())
        return TritonTensor(tensor["name"], dtype, tuple(shape[1:]))
    if not shape:
        raise ExportError(f"engine {kind} {tensor['name']!r} is a scalar; Triton takes no scalar "
                          "tensors in a model without batching",
                          hint="give the tensor a dimension in the model (e.g. shape [1])")
    return TritonTensor(tensor["name"], dtype, tuple(shape))


# --- writing the repository ---------------------------------------------------------------
def export_triton(engine: Any, repo: str | os.PathLike[str], *, name: str | None = None,
                  max_batch: int | None = None, instances: int = 1,
                  dynamic_batching: bool = False, replace: bool = False, snapshot: bool = False,
                  command: Sequence[str] | None = None, extra_notes: Sequence[str] = ()) -> Path:
    """Write ``repo/<name>/`` (plan, sidecar, ``config.pbtxt``, README, ``reproduce.sh``).

    ``engine``: an :class:`~trtforge.conversion.engine.Engine` or an engine file. ``replace``: an existing
    model folder is swapped for the new one (else refused). ``command``: the trtforge argument
    list that reproduces this folder (default: the equivalent ``export triton`` command).
    Returns the model folder.
    """
    from trtforge.conversion.engine import Engine

    if not isinstance(engine, Engine):
        engine = Engine.load(engine, check_compatibility=False)  # a foreign plan exports fine
    engine_path = Path(engine.path).resolve() if engine.path is not None else None
    model_name = check_model_name(name) if name is not None else default_name(
        engine_path.name if engine_path else (engine.metadata.get("source") or {}).get("name") or "model")
    config = config_for(engine.metadata, name=model_name, max_batch=max_batch,
                        instances=instances, dynamic_batching=dynamic_batching)
    root = _repo_root(repo)
    final = root / model_name
    if os.path.lexists(final):
        if final.is_symlink() or not final.is_dir():
            raise UsageError(f"{final} exists and is not a model folder",
                             hint="remove it or choose another --name")
        if not replace:
            raise UsageError(f"model folder {final} already exists",
                             hint="pass --force to replace it, or choose another --name")
    if snapshot:
        from trtforge.verify.snapshot import engine_snapshot

        if engine_snapshot(engine) is None:
            raise UsageError("--snapshot: this engine has no network snapshot to copy",
                             hint="convert with --snapshot, or export without --snapshot")
    if command is None:
        command = _export_command(engine_path, root, model_name, max_batch, instances,
                                  dynamic_batching, replace, snapshot)
    files = _texts(engine, config, command, engine_path, extra_notes)
    _clean_stale(root, model_name)
    staging = Path(tempfile.mkdtemp(prefix=f".{model_name}.p{os.getpid()}.", dir=root))
    try:
        from trtforge.atomic import atomic_write_text, dir_mode, file_mode

        os.chmod(staging, dir_mode())
        copy = Engine(plan=engine.plan, metadata=dict(engine.metadata), extras=dict(engine.extras))
        copy.save(staging / VERSION / PLAN_NAME, snapshot=snapshot)
        for relative, text in files.items():
            atomic_write_text(staging / relative, text)
        os.chmod(staging / VERSION, dir_mode())
        os.chmod(staging / "reproduce.sh", file_mode() | ((file_mode() & 0o444) >> 2))
        _swap_into_place(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    log.info("Triton model %s written to %s (max_batch_size %d, %d profile(s))", model_name,
             final, config.max_batch_size, max(1, len(config.profiles)))
    return final


def _repo_root(repo: str | os.PathLike[str]) -> Path:
    text = os.fspath(repo)
    if not str(text).strip():
        raise UsageError("--repo is empty", hint="give the model repository folder, e.g. --repo models/")
    root = Path(text).expanduser()
    if root.exists() and not root.is_dir():
        raise UsageError(f"--repo {root} is a file, not a folder", hint="give a folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the model repository {root}: {exc.strerror or exc}",
                         hint="choose a folder you can write to") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise UsageError(f"model repository {root} is not writable", hint="choose a folder you can write to")
    return root.resolve()


def _swap_into_place(staging: Path, final: Path) -> None:
    """Rename ``staging`` to ``final``; an existing ``final`` is moved aside first and only
    removed once the new folder is in place (put back if the rename fails)."""
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.p{os.getpid()}.old.", dir=final.parent))
        os.rmdir(old)
        os.rename(final, old)
    try:
        os.rename(staging, final)
    except BaseException:
        if old is not None:
            os.rename(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _clean_stale(root: Path, name: str) -> None:
    """Staging folders of killed exports; a replaced folder left aside is put back if its
    model folder is missing (the run died between the two renames)."""
    from trtforge.guard import is_stale

    ours = re.compile(rf"\.{re.escape(name)}\.p\d+\.(old\.)?[a-z0-9_]{{8}}")
    for path in root.glob(f".{name}.p*"):
        if not ours.fullmatch(path.name) or not path.is_dir() or path.is_symlink() or not is_stale(path):
            continue
        final = root / name
        if ".old." in path.name and not os.path.lexists(final):
            os.rename(path, final)
            log.warning("restored %s from an interrupted export", final)
        else:
            shutil.rmtree(path, ignore_errors=True)


def _export_command(engine_path: Path | None, root: Path, name: str, max_batch: int | None,
                    instances: int, dynamic_batching: bool, replace: bool, snapshot: bool) -> list[str]:
    argv = ["export", "triton", str(engine_path) if engine_path else "${ENGINE}", "--repo", str(root),
            "--name", name]
    if max_batch is not None:
        argv += ["--max-batch", str(max_batch)]
    if instances != 1:
        argv += ["--instances", str(instances)]
    if dynamic_batching:
        argv.append("--dynamic-batching")
    if snapshot:
        argv.append("--snapshot")
    if replace:
        argv.append("--force")
    return argv


def _texts(engine: Any, config: TritonConfig, command: Sequence[str], engine_path: Path | None,
           extra_notes: Sequence[str]) -> dict[str, str]:
    from trtforge import __version__
    from trtforge.report.reproduce import SCRIPT_NAME, script, tensorrt_line

    meta = engine.metadata
    built = meta.get("tensorrt") or {}
    header = [f"Written by trtforge {__version__} from {engine_path or 'an engine in memory'}:",
              f"route {meta.get('route')}, precision {meta.get('precision')}, built by "
              f"{built.get('flavor')} {built.get('version')} for {meta.get('target') or 'its GPU'}.",
              *config.notes]
    placeholders = {"ENGINE": "set ENGINE to the engine file this folder was exported from"} \
        if "${ENGINE}" in command else None
    notes = list(extra_notes)
    if built.get("flavor") == "tensorrt_rtx":
        notes.append("TensorRT-RTX plans run in the TensorRT-RTX runtime; Triton's tensorrt_plan "
                     "backend needs a plan built by its own (full) TensorRT version")
    reproduce = script([list(command)], meta, placeholders=placeholders, notes=notes)
    readme = _readme(engine, config, tensorrt_line(meta), notes)
    return {CONFIG_NAME: config.to_pbtxt(header), README_NAME: readme, SCRIPT_NAME: reproduce}


def _summary(config: TritonConfig) -> str:
    text = f"max_batch_size: {config.max_batch_size}; instances per GPU: {config.instances}"
    if config.profiles:
        text += f"; profiles: {', '.join(config.profiles)}"
    if config.dynamic_batching:
        text += "; dynamic batching"
        if config.preferred_batch_sizes:
            text += f" (preferred {list(config.preferred_batch_sizes)})"
    return text


def _readme(engine: Any, config: TritonConfig, tensorrt: str, notes: Sequence[str]) -> str:
    meta = engine.metadata
    rows = [f"| {kind} | `{t.name}` | {t.data_type} | {list(t.dims)} |"
            for kind, tensors in (("input", config.inputs), ("output", config.outputs)) for t in tensors]
    lines = [
        f"# Triton model `{config.name}`", "",
        f"`{VERSION}/{PLAN_NAME}` is a TensorRT plan (route `{meta.get('route')}`, precision "
        f"`{meta.get('precision')}`), built by **{tensorrt}** for "
        f"**{meta.get('target') or 'the GPU it was built on'}**; "
        f"`{VERSION}/{PLAN_NAME}.json` is its trtforge sidecar (`trtforge inspect {VERSION}/{PLAN_NAME}`).",
        "",
        "A plan loads only in the exact TensorRT flavor and version that built it, on the GPU "
        "architecture it was built for. Triton's `tensorrt_plan` backend uses the full TensorRT "
        "of its release: check that it matches, or rebuild there (`trtforge build` from the "
        "engine's snapshot, then export again). `reproduce.sh` holds the command that wrote "
        "this folder.", "",
        f"Serve: `tritonserver --model-repository {Path('..').as_posix()}` (the folder above this one).", "",
        _summary(config),
        "", "| | name | type | dims |", "|---|---|---|---|", *rows, "",
    ]
    lines += [f"- {n}" for n in (*config.notes, *notes)]
    return "\n".join(lines) + "\n"
