"""What the user asks for: input shapes and profiles, precision, build settings.

These are plain, hashable-by-content value objects. They never import a framework, so the
CLI can parse them and the cache can key on them without loading torch or TensorRT.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from trtforge.errors import UsageError

Shape = tuple[int, ...]

DTYPES = ("float32", "float16", "bfloat16", "int8", "uint8", "int32", "int64", "bool")
_DTYPE_ALIASES = {
    "fp32": "float32", "float": "float32", "f32": "float32",
    "fp16": "float16", "half": "float16", "f16": "float16",
    "bf16": "bfloat16",
    "i8": "int8", "u8": "uint8", "i32": "int32", "int": "int32", "i64": "int64", "long": "int64",
}


def canonical_dtype(dtype: Any) -> str:
    """Map numpy/torch dtypes and common spellings to one of ``DTYPES``."""
    text = str(dtype).lower()
    for prefix in ("torch.", "dtype("):
        if text.startswith(prefix):
            text = text[len(prefix):]
    text = text.strip("')\"")
    text = _DTYPE_ALIASES.get(text, text)
    if text not in DTYPES:
        raise UsageError(
            f"unknown dtype {dtype!r}", hint=f"use one of: {', '.join(DTYPES)}"
        )
    return text


class Precision(str, enum.Enum):
    """Requested compute precision; inputs and outputs stay in their own dtype."""

    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"
    INT8 = "int8"

    @classmethod
    def parse(cls, value: "str | Precision") -> "Precision":
        if isinstance(value, Precision):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            raise UsageError(
                f"unknown precision {value!r}",
                hint=f"use one of: {', '.join(p.value for p in cls)}",
            ) from None

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ShapeProfile:
    """One optimization profile for one input: smallest, typical and largest shape."""

    min: Shape
    opt: Shape
    max: Shape

    def __post_init__(self) -> None:
        if not (len(self.min) == len(self.opt) == len(self.max)):
            raise UsageError(
                f"profile shapes differ in rank: min={self.min} opt={self.opt} max={self.max}",
                hint="give min, opt and max with the same number of dimensions"
            )
        for lo, mid, hi in zip(self.min, self.opt, self.max):
            if lo < 0 or not lo <= mid <= hi:
                raise UsageError(
                    f"profile must satisfy 0 <= min <= opt <= max in every dimension: "
                    f"min={self.min} opt={self.opt} max={self.max}",
                    hint="write MIN,OPT,MAX with MIN <= OPT <= MAX, e.g. 1x3x8x8,4x3x8x8,8x3x8x8",
                )

    @property
    def is_static(self) -> bool:
        return self.min == self.opt == self.max

    def contains(self, shape: Sequence[int]) -> bool:
        return len(shape) == len(self.min) and all(
            lo <= s <= hi for lo, s, hi in zip(self.min, shape, self.max)
        )

    def network_shape(self) -> Shape:
        """The shape to declare in the network: -1 where the profile lets a dimension vary."""
        return tuple(lo if lo == hi else -1 for lo, hi in zip(self.min, self.max))

    def to_dict(self) -> dict[str, list[int]]:
        return {"min": list(self.min), "opt": list(self.opt), "max": list(self.max)}


def _shape(value: Iterable[int], what: str) -> Shape:
    try:
        shape = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a sequence of integers, got {value!r}") from None
    return shape


@dataclass(frozen=True)
class InputSpec:
    """A network input: name, dtype, and either a fixed shape or min/opt/max profiles.

    >>> InputSpec("images", shape=(1, 3, 224, 224))
    >>> InputSpec("images", min=(1, 3, 224, 224), opt=(8, 3, 224, 224), max=(32, 3, 224, 224))
    >>> InputSpec("images", profiles=[((1,3,224,224),)*3, ((16,3,224,224),)*3])
    """

    name: str | None = None
    dtype: str = "float32"
    # Ways of giving the profiles; equality and hashing look only at the resulting profiles.
    shape: Shape | None = field(default=None, compare=False)
    min: Shape | None = field(default=None, compare=False)
    opt: Shape | None = field(default=None, compare=False)
    max: Shape | None = field(default=None, compare=False)
    profiles: tuple[ShapeProfile, ...] = field(default=())
    # Whether the dtype was written by the user (None: unknown, assume so unless float32).
    dtype_given: bool | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype))
        ranged = (self.min, self.opt, self.max)
        profiles: list[ShapeProfile] = []
        for item in self.profiles:
            if isinstance(item, ShapeProfile):
                profiles.append(item)
            else:
                lo, mid, hi = item
                profiles.append(ShapeProfile(_shape(lo, "min"), _shape(mid, "opt"), _shape(hi, "max")))
        given = sum(x is not None for x in (self.shape,)) + any(r is not None for r in ranged) + bool(profiles)
        if given != 1:
            raise UsageError(
                f"input {self.name or '?'}: give exactly one of shape=, min/opt/max=, or profiles="
            )
        if self.shape is not None:
            fixed = _shape(self.shape, "shape")
            if any(d < 0 for d in fixed):
                raise UsageError(
                    f"input {self.name or '?'}: fixed shape {fixed} has a dynamic dimension",
                    hint="give min=, opt= and max= shapes for a dynamic input",
                )
            object.__setattr__(self, "shape", fixed)
            profiles = [ShapeProfile(fixed, fixed, fixed)]
        elif any(r is not None for r in ranged):
            if any(r is None for r in ranged):
                raise UsageError(f"input {self.name or '?'}: give all of min=, opt= and max=")
            lo, mid, hi = (_shape(r, n) for r, n in zip(ranged, ("min", "opt", "max")))
            object.__setattr__(self, "min", lo)
            object.__setattr__(self, "opt", mid)
            object.__setattr__(self, "max", hi)
            profiles = [ShapeProfile(lo, mid, hi)]
        ranks = {len(p.min) for p in profiles}
        if len(ranks) != 1:
            raise UsageError(f"input {self.name or '?'}: profiles differ in rank")
        object.__setattr__(self, "profiles", tuple(profiles))

    @property
    def is_dynamic(self) -> bool:
        return any(not p.is_static for p in self.profiles) or len(
            {p.min for p in self.profiles}
        ) > 1

    def network_shape(self) -> Shape:
        """Shape to declare: a dimension is -1 if it varies within or across profiles."""
        dims = list(self.profiles[0].network_shape())
        for p in self.profiles[1:]:
            for i, d in enumerate(p.network_shape()):
                if d != dims[i]:
                    dims[i] = -1
        return tuple(dims)

    def opt_shape(self, profile: int = 0) -> Shape:
        return self.profiles[profile].opt

    def with_name(self, name: str) -> "InputSpec":
        return InputSpec(name=name, dtype=self.dtype, profiles=self.profiles)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "profiles": [p.to_dict() for p in self.profiles],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "InputSpec":
        return cls(
            name=data.get("name"),
            dtype=data.get("dtype", "float32"),
            profiles=tuple(
                ShapeProfile(tuple(p["min"]), tuple(p["opt"]), tuple(p["max"]))
                for p in data["profiles"]
            ),
        )

    @classmethod
    def parse(cls, text: str) -> "InputSpec":
        """Parse the CLI form ``NAME[:DTYPE]:SHAPE`` or ``NAME[:DTYPE]:MIN,OPT,MAX``.

        Shapes are written ``1x3x224x224``; several profiles are separated by ``;``.
        """
        parts = text.split(":")
        if len(parts) == 2:
            name, dtype, shapes = parts[0], "float32", parts[1]
        elif len(parts) == 3:
            name, dtype, shapes = parts
        else:
            raise UsageError(
                f"cannot parse input spec {text!r}",
                hint="write NAME:SHAPE, NAME:DTYPE:SHAPE or NAME:DTYPE:MIN,OPT,MAX "
                "with shapes like 1x3x224x224",
            )

        def one(s: str) -> Shape:
            if not re.fullmatch(r"\d+(x\d+)*", s.strip()):
                raise UsageError(f"cannot parse shape {s!r} in input spec {text!r}",
                                 hint="write shapes like 1x3x224x224")
            return tuple(int(d) for d in s.strip().split("x"))

        profiles = []
        for chunk in shapes.split(";"):
            dims = [one(s) for s in chunk.split(",")]
            if len(dims) == 1:
                profiles.append(ShapeProfile(dims[0], dims[0], dims[0]))
            elif len(dims) == 3:
                profiles.append(ShapeProfile(*dims))
            else:
                raise UsageError(f"input spec {text!r}: give one shape or three (min,opt,max)",
                                 hint="e.g. x:1x3x224x224 or x:1x3x224x224,8x3x224x224,32x3x224x224")
        return cls(name=name or None, dtype=dtype, profiles=tuple(profiles),
                   dtype_given=len(parts) == 3)


@dataclass(frozen=True)
class Target:
    """An ahead-of-time GPU target, e.g. ``sm89`` (compute capability 8.9)."""

    major: int
    minor: int

    @property
    def name(self) -> str:
        return f"sm{self.major}{self.minor}"

    @classmethod
    def parse(cls, value: "str | Target | tuple[int, int]") -> "Target":
        if isinstance(value, Target):
            return value
        if isinstance(value, tuple):
            return cls(int(value[0]), int(value[1]))
        text = str(value).strip().lower().replace("_", "").replace(".", "")
        match = re.fullmatch(r"(?:sm)?(\d)(\d+)", text)
        if not match:
            raise UsageError(
                f"cannot parse GPU target {value!r}",
                hint="write it as sm<major><minor>, e.g. sm89 for an RTX 4090/L4, sm86, sm80, sm120",
            )
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class BuildSettings:
    """Builder knobs that change the plan (all part of the cache key)."""

    optimization_level: int | None = None
    workspace_bytes: int | None = None
    tf32: bool = True
    timing_cache: str | None = None
    # Layer names, fused layers and their source ops kept in the plan for `trtforge profile`
    # ("detailed"; "layer_names_only" or "none" make a slightly smaller plan).
    profiling_verbosity: str | None = "detailed"

    def key_dict(self) -> dict[str, Any]:
        # The timing cache path changes speed, never the result, so it is not in the key.
        # Profiling verbosity is: a plan built without layer details cannot be profiled by op.
        return {
            "optimization_level": self.optimization_level,
            "workspace_bytes": self.workspace_bytes,
            "tf32": self.tf32,
            "profiling_verbosity": self.profiling_verbosity,
        }


@dataclass(frozen=True)
class BuildSpec:
    """Everything about a conversion except the model itself."""

    precision: Precision = Precision.FP32
    inputs: tuple[InputSpec, ...] = ()
    example_inputs: tuple[Any, ...] | None = None
    calibration: Any = None
    target: Target | None = None
    settings: BuildSettings = field(default_factory=BuildSettings)
    options: dict[str, Any] = field(default_factory=dict)

    def input_named(self, name: str, position: int | None = None) -> InputSpec | None:
        for spec in self.inputs:
            if spec.name == name:
                return spec
        unnamed = [s for s in self.inputs if not s.name]
        if position is not None and position < len(unnamed) and len(unnamed) == len(self.inputs):
            return unnamed[position]
        return None

    def key_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision.value,
            "inputs": [s.to_dict() for s in self.inputs],
            "target": self.target.name if self.target else None,
            "settings": self.settings.key_dict(),
            "options": {k: repr(v) for k, v in sorted(self.options.items())},
            # Only INT8 builds read calibration data.
            "calibration": (_calibration_key(self.calibration)
                            if self.precision is Precision.INT8 else None),
        }


def _calibration_key(calibration: Any) -> str | None:
    """The calibration's content (data digest, method, batching), never an object's id()."""
    if calibration is None:
        return None
    key = getattr(calibration, "cache_key", None)
    if callable(key):
        return str(key())
    from trtforge.int8.calibration import as_calibration

    return as_calibration(calibration).cache_key()  # type: ignore[union-attr]
