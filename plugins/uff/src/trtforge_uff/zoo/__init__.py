"""Small seeded models of the UFF era, built offline (TensorFlow needed to build them)."""
from __future__ import annotations
