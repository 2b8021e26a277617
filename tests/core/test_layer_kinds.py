"""One row per TensorRT layer type (trtforge.verify.layer_kinds): every row has its replay and its
CPU executor op, and what the row names exists in the installed TensorRT."""
from __future__ import annotations

from typing import Any

from trtforge.verify.layer_kinds import KINDS


def test_every_kind_has_a_replay_and_an_executor_op() -> None:
    from trtforge.reference import LAYER_EXECUTORS
    from trtforge.verify.snapshot import _CREATORS

    assert set(_CREATORS) == set(KINDS)
    executed = {name for name, row in KINDS.items() if row.executed}
    missing = sorted(executed - set(LAYER_EXECUTORS))
    assert missing == [], f"layer kinds marked executed without a reference executor op: {missing}"
    unmarked = sorted(set(LAYER_EXECUTORS) - executed)
    assert unmarked == [], f"executor ops for layer types not marked executed (or with no row): {unmarked}"


def test_classes_methods_enums_and_attributes_exist_here(tensorrt: Any) -> None:
    trt = tensorrt.module
    problems = []
    for row in KINDS.values():
        cls = getattr(trt, row.cls, None)
        if cls is None:
            problems.append(f"{row.name}: no class {row.cls}")
            continue
        if not hasattr(trt.INetworkDefinition, row.add):
            problems.append(f"{row.name}: no INetworkDefinition.{row.add}")
        if row.name not in trt.LayerType.__members__:
            problems.append(f"{row.name}: not a LayerType")
        for attr in row.attributes:
            if attr != "kind" and not hasattr(cls, attr):
                problems.append(f"{row.name}: {row.cls} has no attribute {attr}")
        for attr, enum in row.enums.items():
            if not hasattr(trt, enum):
                problems.append(f"{row.name}.{attr}: no enum {enum}")
        problems += [f"{row.name}.{attr}: implicit value of an attribute not listed"
                     for attr in row.implicit if attr not in row.attributes]
        late = [j for j in row.late_inputs if j < 0]
        problems += [f"{row.name}: negative late input {late}"] if late else []
    assert problems == []
