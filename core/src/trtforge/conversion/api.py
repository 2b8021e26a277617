"""``trtforge.convert``: model in, engine out, through one route or the first that works."""
from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from trtforge import __version__
from trtforge.plugin.backends import Backend, registry
from trtforge.conversion.building import build_engine
from trtforge.conversion.cache import EngineCache, cache_key
from trtforge.conversion.engine import Engine
from trtforge.errors import AllRoutesFailedError, CacheError, TrtforgeError, UsageError
from trtforge.models.sources import ModelSource, detect
from trtforge.conversion.specs import BuildSettings, BuildSpec, InputSpec, Precision, Target, canonical_dtype
from trtforge.tensorrt.timing_cache import with_default_timing_cache
from trtforge.tensorrt.trt import TensorRT, get_tensorrt

if TYPE_CHECKING:
    from trtforge.program.program import Program
    from trtforge.program.route import FallbackSettings

log = logging.getLogger("trtforge")


def _split_inputs(inputs: Iterable[Any] | None) -> tuple[tuple[InputSpec, ...], tuple[Any, ...] | None]:
    """Accept InputSpecs, CLI strings, or example arrays/tensors (shape+dtype taken from them)."""
    if inputs is None:
        return (), None
    specs, examples = [], []
    items = list(inputs) if not hasattr(inputs, "shape") else [inputs]
    for item in items:
        if isinstance(item, InputSpec):
            specs.append(item)
        elif isinstance(item, str):
            specs.append(InputSpec.parse(item))
        elif hasattr(item, "shape") and hasattr(item, "dtype"):
            specs.append(InputSpec(name=None, dtype=canonical_dtype(item.dtype),
                                   shape=tuple(int(d) for d in item.shape)))
            examples.append(item)
        else:
            raise UsageError(
                f"cannot use {type(item).__name__} as an input description",
                hint="pass InputSpec(...), an example tensor/array, or 'name:dtype:shape'",
            )
    if examples and len(examples) != len(specs):
        raise UsageError("mix of example tensors and InputSpecs",
                         hint="give either one example tensor per input, or only InputSpecs")
    return tuple(specs), (tuple(examples) if examples else None)


def make_spec(
    *,
    precision: str | Precision = "fp32",
    inputs: Iterable[Any] | None = None,
    calibration: Any = None,
    target: str | Target | None = None,
    optimization_level: int | None = None,
    workspace_bytes: int | None = None,
    tf32: bool = True,
    timing_cache: str | Path | None = None,
    options: dict[str, Any] | None = None,
) -> BuildSpec:
    specs, examples = _split_inputs(inputs)
    names = [s.name for s in specs if s.name]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"input {repeated[0]!r} is described more than once",
                         hint="give one --input per network input (';' separates profiles)")
    if optimization_level is not None and (isinstance(optimization_level, bool) or not isinstance(
            optimization_level, int) or not 0 <= optimization_level <= 5):
        raise UsageError(f"builder optimization level must be between 0 and 5, got {optimization_level!r}",
                         hint="e.g. --opt-level 3 (TensorRT's default)")
    if workspace_bytes is not None and (not isinstance(workspace_bytes, int) or workspace_bytes <= 0):
        raise UsageError(f"workspace must be a positive size, got {workspace_bytes!r}",
                         hint="e.g. --workspace 1024 (MiB)")
    parsed = Precision.parse(precision)
    if parsed is Precision.INT8 and calibration is not None:
        from trtforge.int8.calibration import as_calibration

        # One Calibration for key and routes: a generator read for the key is not used up.
        calibration = as_calibration(calibration)
    return BuildSpec(
        precision=parsed,
        inputs=specs,
        example_inputs=examples,
        calibration=calibration,
        target=Target.parse(target) if target is not None else None,
        settings=BuildSettings(
            optimization_level=optimization_level,
            workspace_bytes=workspace_bytes,
            tf32=tf32,
            timing_cache=str(timing_cache) if timing_cache else None,
        ),
        options=dict(options or {}),
    )


def convert(
    model: Any,
    backend: str = "auto",
    precision: str | Precision = "fp32",
    inputs: Sequence[Any] | None = None,
    calibration: Any = None,
    target: str | Target | None = None,
    cache: bool | str | Path | EngineCache = True,
    *,
    optimization_level: int | None = None,
    workspace_bytes: int | None = None,
    tf32: bool = True,
    timing_cache: str | Path | None = None,
    options: dict[str, Any] | None = None,
    fallback: str = "auto",
    min_block_size: int | None = None,
    framework_ops: Sequence[str] = (),
) -> "Engine | Program":
    """Convert ``model`` into a TensorRT engine, or a hybrid program where ops fall back.

    ``backend="auto"`` tries every available route that accepts the model in priority order
    (see ``trtforge plugins``) and moves to the next on failure; the failures are recorded
    in ``engine.metadata["fallbacks"]`` or, if every route fails, in the raised
    :class:`AllRoutesFailedError`. ``cache`` is True (default folder), False, a folder, or an
    :class:`EngineCache`.

    ``fallback``: "auto" (default) gives an engine when every op converts and otherwise, on a
    route that can fall back, a :class:`~trtforge.program.Program` whose unconvertible parts
    run in the source framework; "never" refuses with the fallback report; "always" gives a
    program even when everything converts. ``min_block_size``: TensorRT segments with fewer
    compute ops stay in the framework (default 5, as Torch-TensorRT); ``framework_ops``: op
    names forced out of TensorRT.
    """
    from trtforge.program.route import DEFAULT_MIN_BLOCK_SIZE, FallbackSettings

    settings = FallbackSettings(fallback, DEFAULT_MIN_BLOCK_SIZE if min_block_size is None
                                else min_block_size, tuple(framework_ops))
    spec = make_spec(
        precision=precision, inputs=inputs, calibration=calibration, target=target,
        optimization_level=optimization_level, workspace_bytes=workspace_bytes, tf32=tf32,
        timing_cache=timing_cache, options=options,
    )
    source = detect(model, spec.example_inputs)
    engine_cache = _resolve_cache(cache)
    tensorrt = get_tensorrt()
    if spec.target is None:
        # Resolve now, so a missing target fails before any slow export, and the cache key
        # names the GPU the plan is for.
        resolved = tensorrt.resolve_target(None)
        if resolved is not None:
            spec = replace(spec, target=resolved)
    routes = registry()
    if backend != "auto":
        chosen = [routes.require_available(backend)]
        skipped: dict[str, str] = {}
    else:
        chosen, skipped = routes.candidates(source)
        if not chosen:
            reasons = "; ".join(f"{name}: {why}" for name, why in skipped.items())
            raise AllRoutesFailedError(
                f"no route can convert {source.name} ({source.kind})"
                + (f": {reasons}" if reasons else ""),
                failures=skipped,
                hint="install a route that handles this kind (see `trtforge plugins`)",
            )
    failures: dict[str, str] = {}
    # backend="auto": a route that converts everything beats a program from an earlier route;
    # only when none does, the routes that can fall back are asked for programs.
    whole_first = backend == "auto" and settings.fallback == "auto" and not settings.wants_program
    uncovered: list[Backend] = []
    for route in chosen:
        try:
            route.validate_options(spec.options)
            engine = convert_with(route, source, spec, tensorrt, engine_cache,
                                  None if whole_first else settings)
        except (UsageError, CacheError):
            raise  # the user's arguments or the cache, not the route: no other route helps
        except Exception as exc:
            if backend != "auto":
                raise
            from trtforge.errors import UnsupportedOperationsError

            if isinstance(exc, UnsupportedOperationsError) and route.can_fall_back:
                uncovered.append(route)
            failures[route.name] = _describe_failure(exc)
            log.warning("route %s failed: %s; trying the next route", route.name, failures[route.name])
            continue
        if failures:
            engine.metadata["fallbacks"] = failures
        return engine
    for route in uncovered if whole_first else ():
        try:
            program = convert_program(route, source, spec, tensorrt, engine_cache, settings)
        except (UsageError, CacheError):
            raise
        except Exception as exc:
            failures[f"{route.name} (with fallback)"] = _describe_failure(exc)
            continue
        program.metadata["fallbacks"] = failures
        return program
    summary = "; ".join(f"{name}: {why}" for name, why in failures.items())
    raise AllRoutesFailedError(
        f"every route failed to convert {source.name}: {summary}",
        failures=failures,
        hint="see each route's reason; `--backend NAME --debug` shows one route's full error",
    )


def _describe_failure(exc: BaseException) -> str:
    if isinstance(exc, TrtforgeError):
        text = exc.message
        unsupported = getattr(exc, "unsupported", None)
        if unsupported:
            text += f" [unsupported: {', '.join(unsupported)}]"
        return text
    return f"{type(exc).__name__}: {exc}"


def _resolve_cache(cache: bool | str | Path | EngineCache) -> EngineCache | None:
    if cache is False or cache is None:
        return None
    if isinstance(cache, EngineCache):
        return cache
    if cache is True:
        return EngineCache()
    return EngineCache(cache)


def engine_key(source: ModelSource, route: str, spec: BuildSpec, tensorrt: TensorRT) -> str:
    return cache_key({
        "source": source.fingerprint,
        "kind": source.kind,
        "route": route,
        "spec": spec.key_dict(),
        "tensorrt": {"flavor": tensorrt.flavor, "version": tensorrt.version},
        "trtforge": __version__,
    })


def convert_with(
    route: Backend,
    source: ModelSource,
    spec: BuildSpec,
    tensorrt: TensorRT,
    engine_cache: EngineCache | None,
    settings: "FallbackSettings | None" = None,
) -> "Engine | Program":
    """One route, with the cache around it; a program where the fallback settings call for one."""
    from trtforge.errors import UnsupportedOperationsError

    if settings is not None and settings.wants_program:
        return convert_program(route, source, spec, tensorrt, engine_cache, settings)
    try:
        return _convert_engine(route, source, spec, tensorrt, engine_cache)
    except UnsupportedOperationsError as exc:
        if settings is None or settings.fallback != "auto" or not route.can_fall_back:
            raise
        log.info("%s: %s; converting with fallback", route.name, exc.message)
        return convert_program(route, source, spec, tensorrt, engine_cache, settings)


def convert_program(route: Backend, source: ModelSource, spec: BuildSpec, tensorrt: TensorRT,
                    engine_cache: EngineCache | None, settings: "FallbackSettings") -> "Program":
    """A hybrid program, cached as one unit."""
    from trtforge.program.route import build_program

    if engine_cache is None:
        return build_program(route, source, spec, tensorrt, settings)
    key = cache_key({"program": engine_key(source, route.name, spec, tensorrt),
                     "fallback": settings.key_dict()})
    spec = with_default_timing_cache(spec, engine_cache, tensorrt)
    with engine_cache.lock(key):
        hit = engine_cache.get_program(key)
        if hit is not None:
            hit.metadata["cache"] = {"hit": True, "key": key}
            return hit
        program = build_program(route, source, spec, tensorrt, settings)
        stored = engine_cache.put_program(key, program)
        stored.metadata["cache"] = {"hit": False, "key": key}
        return stored


def _convert_engine(
    route: Backend,
    source: ModelSource,
    spec: BuildSpec,
    tensorrt: TensorRT,
    engine_cache: EngineCache | None,
) -> Engine:
    if engine_cache is None:
        return _build(route, source, spec, tensorrt)
    key = engine_key(source, route.name, spec, tensorrt)
    spec = with_default_timing_cache(spec, engine_cache, tensorrt)  # not part of the key
    with engine_cache.lock(key):
        hit = engine_cache.get(key)
        if hit is not None:
            hit.metadata["cache"] = {"hit": True, "key": key}
            return hit
        engine = _build(route, source, spec, tensorrt)
        stored = engine_cache.put(key, engine)
        stored.extras.update(engine.extras)
        stored.metadata["cache"] = {"hit": False, "key": key}
        return stored


def _build(route: Backend, source: ModelSource, spec: BuildSpec, tensorrt: TensorRT) -> Engine:
    return build_engine(route.name, source, spec, tensorrt,
                        lambda network, ctx: route.populate(network, source, spec, ctx))
