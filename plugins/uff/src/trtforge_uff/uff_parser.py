"""``UffParser``: the ``trt.UffParser`` calls of UFF-era build scripts, on any TensorRT.

TensorRT 10 removed ``trt.UffParser``; scripts such as seed 004's ``build_engine.py`` do::

    parser = trt.UffParser()
    parser.register_input("Input", (3, 300, 300))
    parser.register_output("MarkOutput_0")
    parser.parse("model.uff", network)

With ``from trtforge_uff import UffParser`` the same calls fill an explicit-batch network
through trtforge's importer. Shapes are registered without the batch (implicit batch, as
TensorRT 8 did); the network gets batch ``max_batch_size`` (default 1). An input registered
in ``NCHW`` order for a UFF Input laid out NHWC (a TF graph) is transposed inside the network,
so callers feed NCHW data, as with TensorRT's parser. ``parse`` raises a trtforge error with
every problem instead of returning False.
"""

from __future__ import annotations

from typing import Any, Sequence

from trtforge.errors import UsageError

ORDERS = ("NCHW", "NHWC")


class UffInputOrder:
    NCHW = "NCHW"
    NHWC = "NHWC"


class UffParser:
    def __init__(self, max_batch_size: int = 1) -> None:
        self.max_batch_size = int(max_batch_size)
        self._inputs: list[tuple[str, tuple[int, ...], str]] = []
        self._outputs: list[str] = []

    def register_input(self, name: str, shape: Sequence[int], order: Any = UffInputOrder.NCHW) -> bool:
        order_name = getattr(order, "name", order)
        if order_name not in ORDERS:
            raise UsageError(f"input {name!r}: order {order!r} is not NCHW or NHWC")
        self._inputs.append((name, tuple(int(d) for d in shape), str(order_name)))
        return True

    def register_output(self, name: str) -> bool:
        self._outputs.append(name)
        return True

    def parse(self, file: str, network: Any, weights_type: Any = None) -> bool:
        from trtforge.tensorrt.trt import get_tensorrt

        from trtforge_uff.importer.convert import import_graph
        from trtforge_uff.load import read_graph

        graph = read_graph(file)
        nodes = graph.by_id()
        layouts = {}
        for name, shape, order in self._inputs:
            node = nodes.get(name)
            if node is None or node.op != "Input":
                raise UsageError(
                    f"{file} has no Input node {name!r}",
                    hint=f"its inputs: {', '.join(n.id for n in graph.inputs())}",
                )
            layouts[name] = _layout(name, (self.max_batch_size, *shape), order, node.get("shape", []))
        outputs = [
            nodes[o].inputs[0] if o in nodes and nodes[o].op == "MarkOutput" else o for o in self._outputs
        ]
        import_graph(
            network, get_tensorrt(), graph, outputs=outputs or None, input_layouts=layouts, origin=str(file)
        )
        return True


def _layout(
    name: str, shape: tuple[int, ...], order: str, declared: Sequence[int]
) -> tuple[tuple[int, ...], list[int]]:
    """The network shape and the transpose to the UFF Input's layout."""
    rank = len(shape)
    identity = list(range(rank))
    fits = lambda candidate: (
        len(declared) == rank
        and all(  # noqa: E731
            d < 0 or d == c for d, c in zip(declared, candidate)
        )
    )
    if rank == 4 and order == "NCHW" and not fits(shape):
        nhwc = (shape[0], shape[2], shape[3], shape[1])
        if fits(nhwc):
            return shape, [0, 2, 3, 1]
    if rank == 4 and order == "NHWC" and not fits(shape):
        nchw = (shape[0], shape[3], shape[1], shape[2])
        if fits(nchw):
            return shape, [0, 3, 1, 2]
    if not fits(shape):
        raise UsageError(
            f"input {name!r}: registered shape {list(shape[1:])} ({order}) does not fit the UFF "
            f"Input shape {list(declared)}",
            hint="register the shape without the batch size",
        )
    return shape, identity
