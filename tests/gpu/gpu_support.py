"""What the GPU test files share: the installed routes that take torch modules."""
from __future__ import annotations


def torch_routes() -> list[str]:
    """Installed routes that accept a torch module, in priority order (at collection time)."""
    from trtforge.plugin.backends import registry
    from trtforge.models.sources import ModelSource

    probe = ModelSource(kind="torch-module", model=None, fingerprint="", name="probe")
    return [b.name for b in registry().candidates(probe)[0]]
