"""Any TensorFlow model as one frozen, Grappler-simplified GraphDef.

Routes that convert TensorFlow graphs op by op (``tf_trt``, ``uff``) start from the same
thing: a GraphDef with no variables, no functions to call, inputs as Placeholders and known
output tensors. :func:`frozen_graph` makes it from every TensorFlow source trtforge knows (an
in-memory Keras model, a ``.keras``/``.h5`` file, a TF2 SavedModel signature, a TF1 frozen
``.pb`` or in-memory GraphDef, a ``tf.function`` with an input signature), then runs Grappler
the way TF-TRT did: pruning, constant folding, arithmetic simplification and dependency
removal, with the layout optimizer off (the model's NHWC stays) and remapping off (so no fused
``_FusedConv2D``/``_FusedBatchNormEx`` ops appear that no converter knows).

The small GraphDef helpers every TensorFlow route shares live here too (tensor names, dtypes
from node attributes, reading ``.pb`` files, running a GraphDef as a pruned function on the
CPU), so ``tf_trt``, ``onnx_trt`` and the program stages agree on them.

TensorFlow is imported inside the functions only.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from trtforge.errors import BackendUnavailableError, ModelSourceError, UsageError

log = logging.getLogger(__name__)

# The Grappler passes TF-TRT ran before segmenting (its layout pass is left out: the model's
# own layout stays at the boundary and the route decides where NCHW pays).
GRAPPLER_PASSES = ("pruning", "debug_stripper", "constfold", "arithmetic", "dependency",
                   "common_subgraph_elimination")
# Ops that are never a graph's output even when nothing consumes them.
_NOT_OUTPUTS = frozenset({"Const", "NoOp", "Placeholder", "PlaceholderWithDefault", "Assert",
                          "SaveV2", "RestoreV2", "VarHandleOp", "VariableV2"})
TF_EXTRA = "pip install 'trtforge[tf]'"


@dataclass(frozen=True)
class GraphTensor:
    """One input or output of a frozen graph.

    ``name`` is what the user calls it (a signature key, a Keras layer name, or the tensor name
    itself for a GraphDef); ``tensor`` is the graph's ``node:index``; ``None`` in ``shape`` is a
    dimension of any size, and a ``shape`` of ``None`` means even the rank is unknown.
    """

    name: str
    tensor: str
    dtype: str
    shape: tuple[int | None, ...] | None

    @property
    def node(self) -> str:
        return self.tensor.split(":")[0]


@dataclass
class FrozenGraph:
    """A frozen GraphDef and what its inputs and outputs are.

    ``inputs``/``outputs`` are graph tensor names (``image:0``) in the order the model takes and
    gives them; ``input_specs``/``output_specs`` add the user-facing names, dtypes and shapes;
    ``notes`` says what was done (frozen from what, which Grappler passes, node counts).
    """

    graph_def: Any
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    input_specs: tuple[GraphTensor, ...]
    notes: tuple[str, ...] = ()
    output_specs: tuple[GraphTensor, ...] = ()
    _runner: Any = field(default=None, repr=False, compare=False)

    @property
    def input_names(self) -> list[str]:
        return [s.name for s in self.input_specs]

    @property
    def output_names(self) -> list[str]:
        return [s.name for s in self.output_specs] or list(self.outputs)

    def op_counts(self) -> dict[str, int]:
        """How many nodes of each op type the graph holds (for coverage reports)."""
        counts: dict[str, int] = {}
        for node in self.graph_def.node:
            counts[node.op] = counts.get(node.op, 0) + 1
        return dict(sorted(counts.items()))

    def run(self, feeds: Mapping[str, Any] | Sequence[Any]) -> dict[str, np.ndarray]:
        """Run the graph in TensorFlow: feeds by user name, tensor name or position; results by
        user-facing output name. The reference every check of a graph route compares with."""
        import_tensorflow("running a frozen graph")
        if self._runner is None:
            self._runner = pruned_function(self.graph_def, self.inputs, self.outputs)
        results = run_on_cpu(self._runner, _ordered_feeds(self, feeds))
        return {name: np.asarray(r) for name, r in zip(self.output_names, results)}


def import_tensorflow(why: str) -> Any:
    """TensorFlow, or an error naming the extra to install."""
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise BackendUnavailableError(
            f"{why} needs TensorFlow ({type(exc).__name__}: {exc})", hint=TF_EXTRA) from None
    return tf


def frozen_graph(
    source: Any,
    *,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    signature: str = "serving_default",
    grappler: bool = True,
) -> FrozenGraph:
    """Freeze ``source`` into a :class:`FrozenGraph`.

    ``source``: a Keras model, a ``.keras``/``.h5``/``.hdf5`` path, a SavedModel directory, a
    ``.pb`` GraphDef path, a ``GraphDef``, a ``tf.function`` with an input signature or a
    concrete function, or a :class:`trtforge.models.sources.ModelSource` of those kinds.
    ``input_names``/``output_names`` pick (and order) the graph's inputs and outputs, by
    user-facing or tensor name; for a GraphDef any node may be named, which cuts the graph there.
    ``signature`` picks the SavedModel signature by name.
    """
    tf = import_tensorflow("freezing a TensorFlow model")
    kind, subject = _classify(source, tf)
    notes: list[str] = []
    with tf.device("/cpu:0"):
        if kind in ("tf-frozen-graph", "tf-graphdef"):
            graph_def = read_graphdef(subject, tf) if kind == "tf-frozen-graph" else subject
            frozen = _from_graphdef(graph_def, _label(subject, kind), input_names, output_names, tf)
            notes.append(f"read the GraphDef {_label(subject, kind)} ({len(graph_def.node)} nodes)")
        else:
            concrete, public_inputs, public_outputs, keep = _concrete_function(kind, subject, signature, tf, notes)
            frozen = _freeze_function(concrete, public_inputs, public_outputs, tf)
            frozen = _select(frozen, input_names, output_names, _label(subject, kind), tf)
            del keep  # the loaded object had to outlive freezing (its functions hold weak refs)
            notes.append(f"froze the variables into constants ({len(frozen.graph_def.node)} nodes)")
        if grappler:
            before = len(frozen.graph_def.node)
            frozen.graph_def = run_grappler(frozen.graph_def, frozen.inputs, frozen.outputs, tf)
            notes.append(f"Grappler ({', '.join(GRAPPLER_PASSES)}; layout and remapping off): "
                         f"{before} -> {len(frozen.graph_def.node)} nodes")
    frozen.notes = tuple(notes)
    for note in notes:
        log.info("%s", note)
    return frozen


# --- what the source is -------------------------------------------------------------------
def _classify(source: Any, tf: Any) -> tuple[str, Any]:
    from trtforge.models.sources import ModelSource

    if isinstance(source, ModelSource):
        subject = source.path if source.path is not None and source.kind in (
            "keras-file", "tf-savedmodel", "tf-frozen-graph") else source.model
        return source.kind, subject
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ModelSourceError(f"{path} does not exist",
                                   hint="give a .keras/.h5 file, a SavedModel directory or a .pb GraphDef")
        if path.is_dir():
            if not (path / "saved_model.pb").exists() and not (path / "saved_model.pbtxt").exists():
                raise ModelSourceError(f"{path} is a directory without saved_model.pb",
                                       hint="a SavedModel is written by tf.saved_model.save(obj, dir)")
            return "tf-savedmodel", path
        if path.suffix.lower() in (".keras", ".h5", ".hdf5"):
            return "keras-file", path
        if path.suffix.lower() in (".pb", ".graphdef"):
            return "tf-frozen-graph", path
        raise ModelSourceError(f"{path} is not a TensorFlow model file",
                               hint="give a .keras/.h5 file, a SavedModel directory or a .pb GraphDef")
    if isinstance(source, tf.compat.v1.GraphDef):
        return "tf-graphdef", source
    try:
        import keras

        if isinstance(source, keras.Model):
            return "keras-model", source
    except ImportError:
        pass
    if hasattr(source, "get_concrete_function") or isinstance(source, tf.types.experimental.ConcreteFunction):
        return "tf-function", source
    raise ModelSourceError(
        f"cannot freeze a {type(source).__name__} as a TensorFlow graph",
        hint="give a Keras model, a .keras/.h5 file, a SavedModel directory, a .pb GraphDef or a tf.function")


def _label(subject: Any, kind: str) -> str:
    if isinstance(subject, Path):
        return str(subject)
    return getattr(subject, "name", None) or kind


def read_graphdef(path: Path | str | None, tf: Any | None = None) -> Any:
    """The GraphDef in a ``.pb`` file, or a :class:`ModelSourceError` naming the file (an empty
    GraphDef parses from any bytes, so it is refused too)."""
    tf = tf or import_tensorflow("reading a TensorFlow GraphDef")
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(Path(str(path)).read_bytes())
    except Exception as exc:
        raise ModelSourceError(f"{path} is not a TensorFlow GraphDef: {type(exc).__name__}: {exc}",
                               hint="a frozen graph is written with graph_def.SerializeToString()") from None
    if not graph_def.node:
        raise ModelSourceError(f"{path} holds an empty GraphDef",
                               hint="a frozen graph is written with graph_def.SerializeToString()")
    return graph_def


# --- functions (Keras, SavedModel, tf.function) --------------------------------------------
def _concrete_function(kind: str, subject: Any, signature: str, tf: Any,
                       notes: list[str]) -> tuple[Any, list[str] | None, list[str] | None, Any]:
    """(concrete function, input names, output names, object to keep alive)."""
    if kind in ("keras-model", "keras-file"):
        model = load_keras(subject) if kind == "keras-file" else subject
        names = [_keras_input_name(t, k) for k, t in enumerate(model.inputs)]
        outputs = keras_output_names(model)
        serve = keras_serving_function(model, names, outputs, tf)
        notes.append(f"traced the Keras model {model.name!r} (inputs {names}, outputs {outputs})")
        return serve.get_concrete_function(), names, outputs, model
    if kind == "tf-savedmodel":
        try:
            loaded = tf.saved_model.load(str(subject))
        except Exception as exc:
            raise ModelSourceError(f"TensorFlow cannot load the SavedModel {subject}: "
                                   f"{type(exc).__name__}: {_first_line(exc)}",
                                   hint="check that it was written by tf.saved_model.save") from None
        available = sorted(loaded.signatures.keys())
        if signature not in available:
            raise UsageError(f"the SavedModel {subject} has no signature {signature!r} "
                             f"(it has {available or 'none'})",
                             hint=f"pick one with signature=NAME, e.g. {available[0]!r}" if available
                             else "save it with signatures={'serving_default': fn}")
        concrete = loaded.signatures[signature]
        notes.append(f"loaded the SavedModel {subject}, signature {signature!r}")
        return concrete, None, None, loaded
    # a tf.function or a concrete function
    if hasattr(subject, "get_concrete_function") and not isinstance(subject, tf.types.experimental.ConcreteFunction):
        if getattr(subject, "input_signature", None) is None:
            raise UsageError(f"the tf.function {getattr(subject, '__name__', subject)!r} has no input signature",
                             hint="decorate it with @tf.function(input_signature=[tf.TensorSpec(...)])")
        concrete = subject.get_concrete_function()
    else:
        concrete = subject
    notes.append(f"traced the tf.function {getattr(subject, '__name__', 'function')!r}")
    return concrete, None, None, subject


def load_keras(path: Path | str) -> Any:
    """A saved Keras model (uncompiled: only inference is needed), or a
    :class:`ModelSourceError` naming the file."""
    import keras

    try:
        return keras.models.load_model(str(path), compile=False)
    except Exception as exc:
        raise ModelSourceError(f"Keras cannot load {path}: {type(exc).__name__}: {_first_line(exc)}",
                               hint="check that the file was written by model.save()") from None


def keras_serving_function(model: Any, names: Sequence[str], outputs: Sequence[str],
                           tf: Any | None = None) -> Any:
    """A ``tf.function`` (input signature ``names``) returning ``{output name: tensor}``.

    Calling the model through it names the outputs by ``outputs``; Keras 3 fills
    ``model.output_names`` with internal tensor names that tf2onnx and signatures cannot find.
    """
    tf = tf or import_tensorflow("tracing a Keras model")
    specs = [tf.TensorSpec(tuple(t.shape), t.dtype, name=n) for t, n in zip(model.inputs, names)]
    outputs = list(outputs)

    @tf.function(input_signature=specs)
    def serve(*args: Any) -> dict[str, Any]:
        result = model(list(args) if len(args) > 1 else args[0], training=False)
        results = result if isinstance(result, (list, tuple)) else [result]
        return dict(zip(outputs, results))

    return serve


def _keras_input_name(tensor: Any, index: int) -> str:
    name = str(getattr(tensor, "name", "") or f"input_{index}")
    return name.split(":")[0]


def keras_output_names(model: Any) -> list[str]:
    """Output names from the layers that make them (``predictions``), not Keras' internal
    tensor names (``keras_tensor_7``)."""
    names: list[str] = []
    for k, tensor in enumerate(model.outputs):
        history = getattr(tensor, "_keras_history", None)
        layer = getattr(history, "operation", None) or (history[0] if history else None)
        name = getattr(layer, "name", None) or f"output_{k}"
        names.append(name if name not in names else f"{name}_{k}")
    return names


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _freeze_function(concrete: Any, public_inputs: list[str] | None, public_outputs: list[str] | None,
                     tf: Any) -> FrozenGraph:
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen_fn = convert_variables_to_constants_v2(concrete)
    graph_def = frozen_fn.graph.as_graph_def()
    inputs = [t for t in frozen_fn.inputs if t.dtype != tf.resource]
    if public_inputs is None:
        public_inputs = _signature_input_names(concrete, inputs)
    if public_outputs is None:
        public_outputs = _structured_output_names(concrete.structured_outputs, len(frozen_fn.outputs))
    input_specs = tuple(GraphTensor(n, t.name, t.dtype.name, _shape(t.shape))
                        for n, t in zip(public_inputs, inputs))
    output_specs = tuple(GraphTensor(n, t.name, t.dtype.name, _shape(t.shape))
                         for n, t in zip(public_outputs, frozen_fn.outputs))
    return FrozenGraph(graph_def, tuple(s.tensor for s in input_specs), tuple(s.tensor for s in output_specs),
                       input_specs, (), output_specs)


def _signature_input_names(concrete: Any, inputs: list[Any]) -> list[str]:
    args, kwargs = concrete.structured_input_signature
    names: list[str] = []
    specs = [a for a in args if hasattr(a, "shape") and hasattr(a, "dtype")]  # not a default None
    for k, spec in enumerate(specs):
        names.append(getattr(spec, "name", None) or inputs[min(k, len(inputs) - 1)].name.split(":")[0])
    names.extend(sorted(kwargs))  # tf.nest flattens keyword inputs by sorted key
    if len(names) != len(inputs):  # nested structures: fall back to the placeholders' names
        return [t.name.split(":")[0] for t in inputs]
    return names


def _structured_output_names(structured: Any, count: int) -> list[str]:
    """Signature keys for a dict of outputs (``tf.nest`` flattens dicts by sorted key)."""
    if isinstance(structured, Mapping) and len(structured) == count:
        return [str(k) for k in sorted(structured)]
    return ["output_0"] if count == 1 else [f"output_{k}" for k in range(count)]


def _shape(shape: Any) -> tuple[int | None, ...] | None:
    if shape is None or getattr(shape, "rank", 0) is None:
        return None
    return tuple(None if d is None else int(d) for d in shape.as_list())


def _select(frozen: FrozenGraph, input_names: Sequence[str] | None, output_names: Sequence[str] | None,
            label: str, tf: Any) -> FrozenGraph:
    """Keep (and order) the inputs/outputs asked for, by user-facing or tensor name."""
    if input_names is not None:
        frozen.input_specs = tuple(_pick(frozen.input_specs, n, "input", label, frozen.graph_def)
                                   for n in input_names)
        frozen.inputs = tuple(s.tensor for s in frozen.input_specs)
    if output_names is not None:
        frozen.output_specs = tuple(_pick(frozen.output_specs, n, "output", label, frozen.graph_def)
                                    for n in output_names)
        frozen.outputs = tuple(s.tensor for s in frozen.output_specs)
    return frozen


def _pick(specs: tuple[GraphTensor, ...], name: str, what: str, label: str, graph_def: Any) -> GraphTensor:
    for spec in specs:
        if name in (spec.name, spec.tensor, spec.node):
            return spec
    known = [s.name for s in specs]
    if what == "output":
        node, index = tensor_ref(name)
        nodes = {n.name: n for n in graph_def.node}
        if node in nodes:
            return GraphTensor(name, f"{node}:{index}", tensor_dtype(nodes[node], index), None)
    raise UsageError(f"{label} has no {what} named {name!r} (its {what}s: {known})",
                     hint=f"name {what}s by these names or by graph tensor NODE:INDEX")


# --- GraphDefs ----------------------------------------------------------------------------
def detect_graph_io(graph_def: Any) -> tuple[list[str], list[str]]:
    """Inputs = Placeholders; outputs = tensors of nodes nothing else consumes."""
    consumed = set()
    for node in graph_def.node:
        for name in node.input:
            consumed.add(name.lstrip("^").split(":")[0])
    inputs = [f"{n.name}:0" for n in graph_def.node if n.op == "Placeholder"]
    outputs = [f"{n.name}:0" for n in graph_def.node
               if n.name not in consumed and n.op not in _NOT_OUTPUTS]
    return inputs, outputs


def tensor_ref(name: str) -> tuple[str, int]:
    """``"node:1"`` -> ``("node", 1)``; ``"node"`` and ``"^node"`` -> ``("node", 0)``."""
    node, _, index = name.lstrip("^").partition(":")
    return node, int(index) if index else 0


def canonical_tensor(name: str) -> str:
    """A tensor name as ``node:index`` (GraphDef inputs may omit ``:0``), so names compare."""
    node, index = tensor_ref(name)
    return f"{node}:{index}"


# Node attributes that hold the dtype of a node's outputs, most specific first.
_DTYPE_ATTRS = ("dtype", "T", "out_type", "DstT", "Tout")


def tensor_dtype(node: Any, index: int = 0) -> str:
    """The dtype name of output ``index`` of a NodeDef, read from its attributes (no graph
    import needed); ``float32`` where no attribute says."""
    from tensorflow.python.framework import dtypes

    for key in _DTYPE_ATTRS:
        if key in node.attr:
            attr = node.attr[key]
            if attr.type:
                return dtypes.as_dtype(attr.type).name
            if attr.list.type:
                return dtypes.as_dtype(attr.list.type[index]).name
    return "float32"


def _placeholder_shape(node: Any) -> tuple[int | None, ...] | None:
    if "shape" not in node.attr:
        return None
    proto = node.attr["shape"].shape
    if proto.unknown_rank:
        return None
    return tuple(None if d.size < 0 else int(d.size) for d in proto.dim)


def _from_graphdef(graph_def: Any, label: str, input_names: Sequence[str] | None,
                   output_names: Sequence[str] | None, tf: Any) -> FrozenGraph:
    detected_in, detected_out = detect_graph_io(graph_def)
    inputs = [canonical_tensor(n) for n in input_names] if input_names is not None else detected_in
    outputs = [canonical_tensor(n) for n in output_names] if output_names is not None else detected_out
    nodes = {n.name: n for n in graph_def.node}
    for what, names, given in (("input", inputs, input_names), ("output", outputs, output_names)):
        missing = [t for t in names if t.split(":")[0] not in nodes]
        if missing:
            raise UsageError(f"the graph {label} has no {what} {missing} (its detected {what}s: "
                             f"{detected_in if what == 'input' else detected_out})",
                             hint="write TF tensor names as NODE:INDEX, e.g. input:0")
    if not inputs or not outputs:
        raise UsageError(f"cannot tell the inputs/outputs of the graph {label} "
                         f"(found inputs {inputs}, outputs {outputs})",
                         hint="give them: input_names=['input:0'], output_names=['logits:0']")
    graph_def = _cut_at_inputs(graph_def, inputs, tf)
    nodes = {n.name: n for n in graph_def.node}
    input_specs = tuple(GraphTensor(t, t, tensor_dtype(nodes[tensor_ref(t)[0]], tensor_ref(t)[1]),
                                    _placeholder_shape(nodes[tensor_ref(t)[0]])) for t in inputs)
    output_specs = tuple(GraphTensor(t, t, tensor_dtype(nodes[tensor_ref(t)[0]], tensor_ref(t)[1]), None)
                         for t in outputs)
    return FrozenGraph(graph_def, tuple(inputs), tuple(outputs), input_specs, (), output_specs)


def _cut_at_inputs(graph_def: Any, inputs: list[str], tf: Any) -> Any:
    """Turn every named input that is not a Placeholder into one (the graph starts there)."""
    by_node = {t.split(":")[0]: t for t in inputs}
    if all(n.op == "Placeholder" for n in graph_def.node if n.name in by_node):
        return graph_def
    cut = tf.compat.v1.GraphDef()
    cut.CopyFrom(graph_def)
    for node in cut.node:
        if node.name in by_node and node.op != "Placeholder":
            if by_node[node.name].split(":")[1] != "0":
                raise UsageError(f"input {by_node[node.name]} is not the first output of its node",
                                 hint="cut the graph at a node's first output (NODE:0)")
            dtype = tf.as_dtype(tensor_dtype(node)).as_datatype_enum
            node.op = "Placeholder"
            del node.input[:]
            node.attr.clear()
            node.attr["dtype"].type = dtype
    return cut


# --- Grappler -----------------------------------------------------------------------------
def run_grappler(graph_def: Any, inputs: Sequence[str], outputs: Sequence[str], tf: Any | None = None) -> Any:
    """Grappler's :data:`GRAPPLER_PASSES` over ``graph_def``, fetching ``outputs``; remapping and
    layout are off so the ops stay the model's own, in the model's layout."""
    tf = tf or import_tensorflow("running Grappler")
    from tensorflow.core.protobuf import config_pb2, meta_graph_pb2, rewriter_config_pb2
    from tensorflow.python.grappler import tf_optimizer

    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    meta = tf.compat.v1.train.export_meta_graph(graph_def=graph.as_graph_def(add_shapes=True), graph=graph)
    fetches = meta_graph_pb2.CollectionDef()
    for name in list(outputs) + list(inputs):
        fetches.node_list.value.append(name)
    meta.collection_def["train_op"].CopyFrom(fetches)

    config = config_pb2.ConfigProto()
    rewrite = config.graph_options.rewrite_options
    rewrite.optimizers.extend(GRAPPLER_PASSES)
    rewrite.meta_optimizer_iterations = rewriter_config_pb2.RewriterConfig.ONE
    rewrite.layout_optimizer = rewriter_config_pb2.RewriterConfig.OFF
    rewrite.remapping = rewriter_config_pb2.RewriterConfig.OFF
    rewrite.min_graph_nodes = -1  # optimize even the smallest graphs
    optimized = tf_optimizer.OptimizeGraph(config, meta, graph_id=b"trtforge")
    for node in optimized.node:
        node.device = ""
    return optimized


# --- running -----------------------------------------------------------------------------
def pruned_function(graph_def: Any, feeds: Sequence[str], fetches: Sequence[str]) -> Any:
    """``graph_def`` as a TF2 function of the tensors ``feeds`` returning ``fetches`` (a pruned
    ``wrap_function``: TF1 graphs run without a Session; ``.inputs`` are the feeds in order)."""
    tf = import_tensorflow("running a TensorFlow graph")

    def imported() -> None:
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(imported, [])
    graph = wrapped.graph
    return wrapped.prune(feeds=[graph.get_tensor_by_name(t) for t in feeds],
                         fetches=[graph.get_tensor_by_name(t) for t in fetches])


def run_on_cpu(function: Any, arrays: Sequence[Any]) -> Any:
    """``function(*arrays)`` on ``/cpu:0``: references and constant folding must not depend on
    (or take memory from) the GPU TensorRT builds on. Returns TensorFlow's results."""
    tf = import_tensorflow("running a TensorFlow graph")
    with tf.device("/cpu:0"):
        return function(*[tf.constant(a) for a in arrays])


def _ordered_feeds(frozen: FrozenGraph, feeds: Mapping[str, Any] | Sequence[Any]) -> list[Any]:
    if not isinstance(feeds, Mapping):
        values = list(feeds)
        if len(values) != len(frozen.input_specs):
            raise UsageError(f"the graph takes {len(frozen.input_specs)} inputs, {len(values)} were given")
        return values
    ordered = []
    for spec in frozen.input_specs:
        for key in (spec.name, spec.tensor, spec.node):
            if key in feeds:
                ordered.append(feeds[key])
                break
        else:
            raise UsageError(f"no feed for the graph input {spec.name!r} (given: {sorted(feeds)})")
    return ordered
