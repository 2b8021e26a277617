"""The TensorRT adapter (the only TensorRT import), the GPU probe, timing caches, and running
plans on a GPU.

Empty on purpose: import the modules themselves (nothing heavy is imported here)."""
