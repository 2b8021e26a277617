"""Hybrid programs: TensorRT engines and framework stages, wired by tensor name.

``Program`` is what ``convert`` returns when some ops stay in the source framework; it has an
Engine's surface (run, benchmark, save/load) and ``check`` runs it without a GPU.
"""
from __future__ import annotations

from trtforge.program.partition import (DEFAULT_MIN_BLOCK_SIZE, FALLBACK_POLICIES, Boundary,
                                        FallbackReport, GraphNode, Segment, partition)
from trtforge.program.program import MANIFEST, Program, is_program_dir
from trtforge.program.stages import EngineStage, StageRunError, register_stage_kind

__all__ = ["Boundary", "DEFAULT_MIN_BLOCK_SIZE", "EngineStage", "FALLBACK_POLICIES", "FallbackReport",
           "GraphNode", "MANIFEST", "Program", "Segment", "StageRunError", "is_program_dir",
           "partition", "register_stage_kind"]
