"""The UFF file format: schema (our own ``uff.proto``), values, reading/writing, validation."""
from __future__ import annotations
