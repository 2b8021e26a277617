"""One row per TensorRT layer type: what snapshots record and replay needs to know about it.

Adding a layer type means one :class:`LayerKind` row here, its replay in
:data:`trtforge.verify.snapshot._CREATORS` and its executor op in :mod:`trtforge.reference` (both keyed
by the row's name; ``tests/core/test_layer_kinds.py`` checks that every row has both).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class LayerKind:
    """A TensorRT layer type (``ILayer.type`` name)."""

    name: str
    cls: str  # the ILayer subclass a layer is cast to (its ``type`` is read through it)
    add: str  # the INetworkDefinition method replay creates it with
    attributes: tuple[str, ...] = ()  # what changes its result, in the order replay sets them
    # inputs set with ``set_input`` after creation; they may come from a layer added later
    late_inputs: frozenset[int] = frozenset()
    enums: Mapping[str, str] = field(default_factory=dict)  # attribute -> TensorRT enum type
    # attribute -> what a TensorRT without the attribute (8.x) produces implicitly
    implicit: Mapping[str, str] = field(default_factory=dict)
    # whether the CPU reference executor runs it (check/debug of a network holding one of the
    # others stops there, naming the layer)
    executed: bool = True


_CONV_ATTRS = ("num_output_maps", "kernel_size_nd", "num_groups", "stride_nd", "pre_padding",
               "post_padding", "padding_mode", "dilation_nd", "kernel", "bias")

KINDS: dict[str, LayerKind] = {kind.name: kind for kind in (
    LayerKind("ACTIVATION", "IActivationLayer", "add_activation",
              ("kind", "alpha", "beta"),
              enums={"kind": "ActivationType"}),
    LayerKind("ASSERTION", "IAssertionLayer", "add_assertion", ("message",)),
    LayerKind("CAST", "ICastLayer", "add_cast", ("to_type",), enums={"to_type": "DataType"}),
    LayerKind("CONCATENATION", "IConcatenationLayer", "add_concatenation", ("axis",)),
    LayerKind("CONSTANT", "IConstantLayer", "add_constant", ("shape", "weights")),
    LayerKind("CONVOLUTION", "IConvolutionLayer", "add_convolution_nd",
              _CONV_ATTRS,
              late_inputs=frozenset([1, 2])),
    LayerKind("CUMULATIVE", "ICumulativeLayer", "add_cumulative",
              ("op", "exclusive", "reverse"),
              enums={"op": "CumulativeOperation"}),
    LayerKind("DECONVOLUTION", "IDeconvolutionLayer", "add_deconvolution_nd",
              _CONV_ATTRS,
              late_inputs=frozenset([1, 2])),
    LayerKind("DEQUANTIZE", "IDequantizeLayer", "add_dequantize",
              ("to_type", "axis", "block_shape"),
              late_inputs=frozenset([2]),
              enums={"to_type": "DataType"},
              implicit={"to_type": "FLOAT"}),
    LayerKind("EINSUM", "IEinsumLayer", "add_einsum", ("equation",)),
    LayerKind("ELEMENTWISE", "IElementWiseLayer", "add_elementwise",
              ("op",),
              enums={"op": "ElementWiseOperation"}),
    LayerKind("FILL", "IFillLayer", "add_fill",
              ("operation", "to_type", "shape", "is_alpha_beta_int64", "alpha", "beta"),
              late_inputs=frozenset([0, 1, 2]),
              enums={"operation": "FillOperation", "to_type": "DataType"},
              implicit={"to_type": "FLOAT"}),
    LayerKind("GATHER", "IGatherLayer", "add_gather_v2",
              ("mode", "axis", "num_elementwise_dims"),
              enums={"mode": "GatherMode"}),
    LayerKind("GRID_SAMPLE", "IGridSampleLayer", "add_grid_sample",
              ("interpolation_mode", "align_corners", "sample_mode"), executed=False),
    LayerKind("IDENTITY", "IIdentityLayer", "add_identity"),
    LayerKind("LRN", "ILRNLayer", "add_lrn", ("window_size", "alpha", "beta", "k")),
    LayerKind("MATRIX_MULTIPLY", "IMatrixMultiplyLayer", "add_matrix_multiply",
              ("op0", "op1"),
              enums={"op0": "MatrixOperation", "op1": "MatrixOperation"}),
    LayerKind("NON_ZERO", "INonZeroLayer", "add_non_zero",
              ("indices_type",),
              implicit={"indices_type": "INT32"}, executed=False),
    LayerKind("NORMALIZATION", "INormalizationLayer", "add_normalization",
              ("is_v2", "axes", "epsilon", "num_groups")),
    LayerKind("ONE_HOT", "IOneHotLayer", "add_one_hot", ("axis",), executed=False),
    LayerKind("PADDING", "IPaddingLayer", "add_padding_nd", ("pre_padding_nd", "post_padding_nd")),
    LayerKind("PARAMETRIC_RELU", "IParametricReLULayer", "add_parametric_relu"),
    LayerKind("POOLING", "IPoolingLayer", "add_pooling_nd",
              ("kind", "window_size_nd", "stride_nd", "pre_padding", "post_padding", "padding_mode",
                "average_count_excludes_padding", "blend_factor"),
              enums={"kind": "PoolingType"}),
    LayerKind("QUANTIZE", "IQuantizeLayer", "add_quantize",
              ("to_type", "axis", "block_shape"),
              late_inputs=frozenset([2]),
              enums={"to_type": "DataType"},
              implicit={"to_type": "INT8"}),
    LayerKind("REDUCE", "IReduceLayer", "add_reduce",
              ("op", "axes", "keep_dims"),
              enums={"op": "ReduceOperation"}),
    LayerKind("RESIZE", "IResizeLayer", "add_resize",
              ("resize_mode", "coordinate_transformation", "selector_for_single_pixel", "nearest_rounding",
                "cubic_coeff", "exclude_outside", "shape", "scales"),
              late_inputs=frozenset([1])),
    LayerKind("SCALE", "IScaleLayer", "add_scale_nd",
              ("mode", "channel_axis", "shift", "scale", "power"),
              enums={"mode": "ScaleMode"}),
    LayerKind("SCATTER", "IScatterLayer", "add_scatter", ("mode", "axis"), enums={"mode": "ScatterMode"},
              executed=False),
    LayerKind("SELECT", "ISelectLayer", "add_select"),
    LayerKind("SHAPE", "IShapeLayer", "add_shape"),
    LayerKind("SHUFFLE", "IShuffleLayer", "add_shuffle",
              ("first_transpose", "reshape_dims", "second_transpose", "zero_is_placeholder"),
              late_inputs=frozenset([1])),
    LayerKind("SLICE", "ISliceLayer", "add_slice",
              ("mode", "start", "shape", "stride", "axes"),
              late_inputs=frozenset([1, 2, 3, 4, 5])),
    LayerKind("SOFTMAX", "ISoftMaxLayer", "add_softmax", ("axes",)),
    LayerKind("SQUEEZE", "ISqueezeLayer", "add_squeeze"),
    LayerKind("TOPK", "ITopKLayer", "add_topk",
              ("op", "k", "axes", "indices_type"),
              late_inputs=frozenset([1]),
              enums={"op": "TopKOperation"},
              implicit={"indices_type": "INT32"}),
    LayerKind("UNARY", "IUnaryLayer", "add_unary", ("op",), enums={"op": "UnaryOperation"}),
    LayerKind("UNSQUEEZE", "IUnsqueezeLayer", "add_unsqueeze"),
)}
