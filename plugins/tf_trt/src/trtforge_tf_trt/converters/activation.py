"""Activations: Relu, Relu6, Elu, Selu, LeakyRelu, Sigmoid, Tanh, Softplus, Softsign,
ClipByValue."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_tf_trt.impl.elementwise import activation, binary
from trtforge_tf_trt.network import NetworkContext
from trtforge_tf_trt.registry import converter
from trtforge_tf_trt.validators import const_inputs

_SIMPLE = {"Relu": "RELU", "Sigmoid": "SIGMOID", "Tanh": "TANH", "Softplus": "SOFTPLUS",
           "Softsign": "SOFTSIGN"}
# tf.nn.selu's constants
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


@converter(*_SIMPLE)
def simple(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return activation(net, inputs[0], _SIMPLE[node.op], node.name)


@converter("Relu6")
def relu6(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return activation(net, inputs[0], "CLIP", node.name, alpha=0.0, beta=6.0)


@converter("Elu")
def elu(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return activation(net, inputs[0], "ELU", node.name, alpha=1.0)


@converter("Selu")
def selu(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return activation(net, inputs[0], "SELU", node.name, alpha=SELU_ALPHA, beta=SELU_SCALE)


@converter("LeakyRelu")
def leaky_relu(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return activation(net, inputs[0], "LEAKY_RELU", node.name, alpha=float(node.attr("alpha", 0.2)))


@converter("ClipByValue", validator=const_inputs(1, 2))
def clip_by_value(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, low, high = inputs
    if np.size(low) == 1 and np.size(high) == 1 and net.is_float(x.tensor):
        return activation(net, x, "CLIP", node.name, alpha=float(np.ravel(low)[0]),
                          beta=float(np.ravel(high)[0]))
    return binary(net, "MIN", binary(net, "MAX", x, low, f"{node.name}/low"), high, node.name)
