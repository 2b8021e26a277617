"""The coverage report names every unsupported node before anything is built; other plugins
add or override converters through the core hook register_converters("tf_trt", register)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import tensorflow as tf

import trtforge
from trtforge.errors import UnsupportedOperationsError, UsageError
from trtforge.plugin.hookspecs import hookimpl

from tftrt_harness import assert_matches, convert, graph_of, seeded


def _with_cumsum(x: tf.Tensor) -> tf.Tensor:
    y = tf.math.cumsum(tf.nn.relu(x), axis=1)
    return tf.math.cumsum(y * 2.0, axis=0, reverse=True)


def test_every_unsupported_node_is_listed() -> None:
    graph_def = graph_of(_with_cumsum, seeded(3, 4))
    with pytest.raises(UnsupportedOperationsError) as caught:
        convert(graph_def, fallback="never")
    assert caught.value.route == "tf_trt"
    (gap,) = caught.value.unsupported
    assert gap.startswith("Cumsum x2 (at Cumsum, Cumsum_1)") and "no converter" in gap


def test_validator_refusal_is_the_reason() -> None:
    graph_def = graph_of(lambda x: tf.pad(x, [[0, 0], [1, 1]], mode="SYMMETRIC"), seeded(2, 3))
    with pytest.raises(UnsupportedOperationsError, match="MirrorPad x1.*SYMMETRIC"):
        convert(graph_def, fallback="never")


class CumsumPlugin:
    """A third-party converter for an op the route does not know."""

    @hookimpl
    def register_converters(self, route: str, register: Callable[[Any], None]) -> None:
        if route != "tf_trt":
            return
        from trtforge_tf_trt.network import Act
        from trtforge_tf_trt.registry import converter
        from trtforge_tf_trt.validators import const_inputs

        @converter("Cumsum", validator=const_inputs(1))
        def cumsum(net: Any, node: Any, inputs: list[Any]) -> Any:
            x, axis = inputs
            tensor = net.logical(x)
            axis_t = net.constant(np.array(int(axis) % x.rank, np.int32), f"{node.name}/axis", "int32")
            layer = net.network.add_cumulative(tensor, axis_t, net.trt.CumulativeOperation.SUM,
                                               bool(node.attr("exclusive")), bool(node.attr("reverse")))
            return Act(net.finish(layer, node.name))

        register(cumsum)


def test_plugin_adds_a_converter_through_the_hook(plugin_registry: Callable[..., str]) -> None:
    plugin_registry(CumsumPlugin(), name="cumsum-plugin")
    assert_matches(_with_cumsum, seeded(3, 4), op="Cumsum")


def test_plugin_converter_overrides_builtin(plugin_registry: Callable[..., str]) -> None:
    from trtforge_tf_trt.registry import build_registry, converter

    calls: list[str] = []

    class ReluOverride:
        @hookimpl
        def register_converters(self, route: str, register: Callable[[Any], None]) -> None:
            from trtforge_tf_trt.impl.elementwise import activation

            @converter("Relu")
            def relu(net: Any, node: Any, inputs: list[Any]) -> Any:
                calls.append(node.name)
                return activation(net, inputs[0], "RELU", node.name)

            if route == "tf_trt":
                register(relu)

    plugin_registry(ReluOverride(), name="relu-override")
    assert build_registry().candidates("Relu")[0].origin == "relu-override"
    assert_matches(tf.nn.relu, seeded(2, 5))
    assert calls == ["Relu"]


def test_options_are_checked(tmp_path: Any) -> None:
    graph_def = graph_of(tf.nn.relu, seeded(2, 5))
    with pytest.raises(UsageError, match="does not know the option"):
        trtforge.convert(graph_def, backend="tf_trt", target="sm89", cache=False, options={"grapler": False})
    with pytest.raises(UsageError, match="no output"):
        trtforge.convert(graph_def, backend="tf_trt", target="sm89", cache=False,
                         options={"output_names": ["nope:0"]})
