"""INT8: calibration data and the shared calibration cache, range methods, accuracy control
and the one planner every route uses.

Empty on purpose: import the modules themselves (nothing heavy is imported here)."""
