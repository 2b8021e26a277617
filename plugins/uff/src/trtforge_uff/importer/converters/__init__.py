"""UFF op converters, one module per op family (discovered by the registry)."""
from __future__ import annotations
