"""Model sources: detection, formats and fingerprints, torch/TensorFlow loaders, frozen
TensorFlow graphs, and keeping the frameworks usable in one process.

Empty on purpose: import the modules themselves (nothing heavy is imported here)."""
