"""One error hierarchy for everything trtforge raises on purpose.

Every error carries a one-line message and an optional ``hint`` (what to do next), so the
CLI can print exactly two lines and library users can still catch precise subclasses.
"""
from __future__ import annotations


class TrtforgeError(Exception):
    """Root of all trtforge errors."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (hint: {self.hint})"
        return self.message


class UsageError(TrtforgeError):
    """Bad arguments: unknown precision, malformed input spec, unknown option.

    Only for the user's own arguments: ``backend="auto"`` stops at one (no other route would
    take them either). A route that fails on its own raises :class:`ConversionError`, and auto
    moves on to the next route.
    """

    exit_code = 2


class ModelSourceError(TrtforgeError):
    """The model given cannot be read: missing, corrupt, or of a kind nobody handles."""


class PluginError(TrtforgeError):
    """A plugin could not be loaded or registered something twice."""


class BackendNotFoundError(UsageError):
    """The backend name asked for is not registered."""


class BackendUnavailableError(TrtforgeError):
    """The backend exists but cannot run here (a dependency is missing)."""


class ConversionError(TrtforgeError):
    """A route could not turn the model into a TensorRT network.

    ``unsupported`` lists every operation the route cannot handle (not only the first), as
    human-readable strings such as ``"aten.foo.default x3 (at layer1.0.conv)"``.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        route: str | None = None,
        unsupported: list[str] | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.route = route
        self.unsupported = list(unsupported or [])


class UnsupportedOperationsError(ConversionError):
    """A route met operations it has no converter for; all of them are in ``unsupported``."""


class AllRoutesFailedError(ConversionError):
    """``backend="auto"`` tried every accepting route and each failed; see ``failures``."""

    def __init__(self, message: str, *, failures: dict[str, str], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.failures = dict(failures)


class TensorRTError(TrtforgeError):
    """TensorRT is missing, or its builder/parser/runtime reported a failure."""


class BuildError(TensorRTError):
    """The TensorRT builder could not produce a plan."""


class RuntimeUnavailableError(TensorRTError):
    """This machine cannot run TensorRT engines (no GPU, unsupported GPU, build-only flavor)."""


class EngineFileError(TrtforgeError):
    """An engine file or its sidecar is missing, corrupt, or inconsistent."""


class EngineCompatibilityError(EngineFileError):
    """The engine was built by another TensorRT version or for another GPU."""


class CacheError(TrtforgeError):
    """The engine cache could not be read or written."""


class CheckError(TrtforgeError):
    """A numerical check could not be run (as opposed to a check that ran and failed)."""


class ExportError(TrtforgeError):
    """An engine cannot be exported as asked: the serving configuration would be rejected
    (e.g. by Triton) or the engine has tensors the server cannot describe."""


class NoCandidateError(TrtforgeError):
    """``optimize`` found no engine that converted, passed the check and kept within the
    accuracy budget; ``result`` holds the ranking with every candidate's reason."""

    def __init__(self, message: str, *, result: object = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.result = result
