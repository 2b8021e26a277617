"""Comparing and measuring: ``compare`` and its A/B report table, timing and native baselines,
per-layer profiles, ``optimize`` and ``reproduce.sh``.

Empty on purpose: import the modules themselves (nothing heavy is imported here)."""
