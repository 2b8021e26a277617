"""What each core UFF op looks like: its inputs, fields and the values ``func`` may take.

One table for the validator, the writer and the importer, so "what a Conv node is" is said
once. Field kinds: ``int``, ``float`` (a number), ``bool``, ``str``, ``ints``, ``floats``,
``dtype``, ``orders`` (a list of dimension orders), ``bytes_or_list`` (Const values).
"""

from __future__ import annotations

from dataclasses import dataclass, field

UNBOUNDED = 1 << 30


@dataclass(frozen=True)
class OpSpec:
    op: str
    min_inputs: int
    max_inputs: int
    required: dict[str, str] = field(default_factory=dict)
    optional: dict[str, str] = field(default_factory=dict)
    funcs: tuple[str, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()  # groups of fields of which at most one is given
    # (padding: neither is NVIDIA's VALID, no padding)


BINARY_FUNCS = ("add", "sub", "mul", "div", "max", "min", "pow", "floordiv")
UNARY_FUNCS = (
    "neg",
    "exp",
    "log",
    "abs",
    "sqrt",
    "rsqrt",
    "square",
    "reciprocal",
    "sin",
    "cos",
    "floor",
    "ceil",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
)
ACTIVATION_FUNCS = ("relu", "relu6", "sigmoid", "tanh", "elu", "selu", "softsign", "softplus", "leaky_relu")
REDUCE_FUNCS = ("sum", "mean", "max", "min", "prod")
POOL_FUNCS = ("max", "avg")
_PADDING = (("padding", "implicit_padding"),)
_CONV_FIELDS = {
    "dilation": "ints",
    "number_groups": "int",
    "padding": "ints",
    "implicit_padding": "str",
    "output_shape": "ints",
}

SPECS: dict[str, OpSpec] = {
    spec.op: spec
    for spec in [
        OpSpec("Input", 0, 0, {"dtype": "dtype", "shape": "ints"}),
        OpSpec("Const", 0, 0, {"dtype": "dtype", "shape": "ints", "values": "bytes_or_list"}),
        OpSpec("Conv", 2, 2, {"inputs_orders": "orders", "strides": "ints"}, _CONV_FIELDS, one_of=_PADDING),
        OpSpec(
            "ConvTranspose",
            2,
            2,
            {"inputs_orders": "orders", "strides": "ints"},
            _CONV_FIELDS,
            one_of=_PADDING,
        ),
        OpSpec(
            "Pool",
            1,
            1,
            {"func": "str", "kernel": "ints", "strides": "ints", "inputs_orders": "orders"},
            {"padding": "ints", "implicit_padding": "str"},
            POOL_FUNCS,
            one_of=_PADDING,
        ),
        OpSpec("Binary", 2, 2, {"func": "str"}, {}, BINARY_FUNCS),
        OpSpec("Unary", 1, 1, {"func": "str"}, {}, UNARY_FUNCS),
        OpSpec("Activation", 1, 1, {"func": "str"}, {"alpha": "float"}, ACTIVATION_FUNCS),
        OpSpec("Reduce", 1, 1, {"func": "str", "axes": "ints"}, {"keepdims": "bool"}, REDUCE_FUNCS),
        OpSpec("BatchNorm", 5, 5, {"epsilon": "float"}, {"inputs_orders": "orders"}),
        OpSpec("Concat", 1, UNBOUNDED, {"axis": "int"}),
        OpSpec("Stack", 1, UNBOUNDED, {"axis": "int"}),
        OpSpec("FullyConnected", 2, 2, {}, {"inputs_orders": "orders"}),
        OpSpec("Softmax", 1, 1, {"axis": "int"}, {"inputs_orders": "orders"}),
        OpSpec("Squeeze", 1, 1, {}, {"axis": "ints"}),
        OpSpec("Flatten", 1, 1, {}, {"axis": "int"}),
        OpSpec("Pad", 2, 2, {}, {"mode": "str"}),
        OpSpec("Reshape", 2, 2),
        OpSpec("Transpose", 2, 2),
        OpSpec(
            "StridedSlice",
            4,
            4,
            {},
            {
                "begin_mask": "int",
                "end_mask": "int",
                "shrink_axis_mask": "int",
                "ellipsis_mask": "int",
                "new_axis_mask": "int",
            },
        ),
        OpSpec("Gather", 2, 2, {}, {"axis": "int"}),
        OpSpec("MarkOutput", 1, 1),
    ]
}
CORE_OPS = tuple(SPECS)
