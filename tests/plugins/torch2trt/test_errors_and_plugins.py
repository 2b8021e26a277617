"""Bad inputs give clear errors, every unsupported op is listed, and other plugins can add
converters through the core hook."""
from __future__ import annotations

from typing import Any, Callable

import pytest
import torch
from torch import nn

from trtforge import InputSpec, hookimpl
from trtforge.errors import ConversionError, UnsupportedOperationsError
from t2t_harness import assert_matches, convert, seeded


class TwoUnsupported(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cumsum(self.conv(x), dim=1)
        y = torch.cumsum(y, dim=2)
        return torch.flip(y, dims=[3])


def test_every_unsupported_op_is_listed_with_counts_and_places() -> None:
    with pytest.raises(UnsupportedOperationsError) as info:
        convert(TwoUnsupported().eval(), [seeded(1, 3, 8, 8)], fallback="never")
    unsupported = info.value.unsupported
    assert len(unsupported) == 2, unsupported
    assert any(u.startswith("aten.cumsum.default x2") for u in unsupported)
    assert any(u.startswith("aten.flip.default x1") for u in unsupported)
    assert "<top>" in unsupported[0] and info.value.hint


def test_unsupported_module_path_is_named() -> None:
    model = nn.Sequential(nn.Conv2d(3, 3, 1), nn.PixelUnshuffle(2)).eval()
    try:
        convert(model, [seeded(1, 3, 4, 4)])
    except UnsupportedOperationsError as exc:
        assert "(at 1)" in exc.unsupported[0] or "at 1" in exc.unsupported[0], exc.unsupported
    else:  # pixel_unshuffle decomposes to supported view/permute ops in this torch version
        assert_matches(model, seeded(1, 3, 4, 4))


def test_capture_failure_names_the_reason_and_the_module() -> None:
    class DataDependent(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.sum() > 0:  # control flow on a tensor value
                return x * 2
            return x - 1

    with pytest.raises(ConversionError) as info:
        convert(DataDependent(), [seeded(1, 4)])
    message = str(info.value)
    assert "torch.export could not capture" in message and "DataDependent" in message
    assert "test_errors_and_plugins.py" in message  # the user's line that broke tracing


def test_input_shape_that_violates_the_model_is_refused() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)).eval()
    with pytest.raises(ConversionError, match="could not capture"):
        convert(model, [InputSpec("x", shape=(1, 4, 8, 8))])  # 4 channels for a 3-channel conv
    with pytest.raises(ConversionError, match="could not capture"):
        # the Linear fixes the spatial size, so a dynamic height range cannot be honoured
        convert(model, [InputSpec("x", min=(1, 3, 8, 8), opt=(1, 3, 8, 8), max=(1, 3, 16, 8))])


def test_auto_moves_on_after_the_coverage_report(monkeypatch: pytest.MonkeyPatch) -> None:
    import trtforge
    from trtforge.errors import AllRoutesFailedError
    from trtforge_torch2trt.backend import Torch2TrtBackend

    monkeypatch.setattr(Torch2TrtBackend, "priority", 1)  # make this route go first

    try:
        engine = trtforge.convert(TwoUnsupported().eval(), backend="auto", inputs=[seeded(1, 3, 8, 8)],
                                  target="sm89", cache=False)
    except AllRoutesFailedError as exc:  # no other route for torch modules is installed
        failures = exc.failures
    else:
        assert engine.route != "torch2trt"
        failures = engine.metadata["fallbacks"]
    assert "aten.cumsum.default x2" in failures["torch2trt"]


@torch.library.custom_op("trtforge_test::shifted_relu", mutates_args=())
def shifted_relu(x: torch.Tensor, shift: float) -> torch.Tensor:
    """A custom op no built-in converter knows: relu(x) + shift."""
    return torch.relu(x) + shift


@shifted_relu.register_fake
def _(x: torch.Tensor, shift: float) -> torch.Tensor:
    return torch.empty_like(x)


class ShiftedReluPlugin:
    """A third-party plugin converting the custom op through the core hook."""

    @hookimpl
    def register_converters(self, route: str, register: Callable[[Any], None]) -> None:
        if route != "torch2trt":
            return
        from trtforge_torch2trt.impl.activation import activation
        from trtforge_torch2trt.impl.elementwise import binary
        from trtforge_torch2trt.registry import converter

        @converter(torch.ops.trtforge_test.shifted_relu.default)
        def convert_shifted_relu(net: Any, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
            relu = activation(net, args[0], "RELU", f"{node.name}/relu")
            return binary(net, "SUM", relu, float(args[1]), node.name)

        register(convert_shifted_relu)


class WithCustomOp(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return shifted_relu(self.conv(x), 0.5)


def test_custom_op_without_converter_is_listed() -> None:
    with pytest.raises(UnsupportedOperationsError, match="trtforge_test.shifted_relu.default x1"):
        convert(WithCustomOp().eval(), [seeded(1, 3, 8, 8)], fallback="never")


def test_plugin_adds_a_converter_through_the_hook(plugin_registry: Callable[..., str]) -> None:
    plugin_registry(ShiftedReluPlugin(), name="shifted-relu-plugin")
    torch.manual_seed(0)
    assert_matches(WithCustomOp().eval(), seeded(1, 3, 8, 8))


def test_plugin_converter_overrides_builtin_at_same_priority(plugin_registry: Callable[..., str]) -> None:
    from trtforge_torch2trt.registry import build_registry, converter

    calls: list[str] = []

    class ReluOverride:
        @hookimpl
        def register_converters(self, route: str, register: Callable[[Any], None]) -> None:
            @converter(torch.ops.aten.relu.default, validator=lambda node: True)
            def relu_as_clip(net: Any, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
                calls.append(node.name)
                layer = net.network.add_activation(args[0], net.trt.ActivationType.RELU)
                return net.finish(layer, node.name)

            if route == "torch2trt":
                register(relu_as_clip)

    plugin_registry(ReluOverride(), name="relu-override")
    registry = build_registry()
    assert registry.candidates(torch.ops.aten.relu.default)[0].origin == "relu-override"
    assert_matches(nn.ReLU(), seeded(2, 5))
    assert calls == ["relu"]


def test_validator_refusal_is_reported_as_the_reason() -> None:
    with pytest.raises(UnsupportedOperationsError, match="divisor_override"):
        convert(nn.AvgPool2d(2, divisor_override=3), [seeded(1, 2, 4, 4)], fallback="never")


def test_unknown_or_bad_options_are_refused_before_capture() -> None:
    """torch2trt took any option silently (a typo'd int8_min_cosine did nothing); it now has
    its own schema: one option, int8_min_cosine, between 0 and 1."""
    import trtforge
    from trtforge.errors import UsageError

    model = nn.Sequential(nn.Conv2d(3, 4, 3)).eval()
    with pytest.raises(UsageError, match="torch2trt does not know the option.s. int8_min_cosin, opset"):
        trtforge.convert(model, backend="torch2trt", inputs=[torch.zeros(1, 3, 8, 8)], target="sm89",
                         cache=False, options={"int8_min_cosin": 0, "opset": 17})
    with pytest.raises(UsageError, match="between 0 and 1"):
        trtforge.convert(model, backend="torch2trt", inputs=[torch.zeros(1, 3, 8, 8)], target="sm89",
                         cache=False, options={"int8_min_cosine": 2})
