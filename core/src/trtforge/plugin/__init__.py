"""Plugin machinery: hooks, the pluggy manager and registrar, the Backend contract and
route registry, what a route receives, and the converter/LayerBuilder toolkit of layer routes.

Empty on purpose: import the modules themselves (nothing heavy is imported here)."""
