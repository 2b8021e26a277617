"""Exporters: an engine into the layout a serving system loads (``triton``: a model repository)."""
from __future__ import annotations
