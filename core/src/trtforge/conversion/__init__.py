"""``convert()``: specs, building one network (populate, snapshot, plan), the engine file and
the content-addressed engine cache.

Empty on purpose: import the modules themselves (nothing heavy is imported here)."""
