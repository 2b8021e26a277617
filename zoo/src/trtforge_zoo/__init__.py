"""trtforge-zoo: the seed documents' models, a digits classifier, and ``trtforge demo``.

Not part of the core wheel: ``models`` builds the test and demo models (TensorFlow, Keras,
PyTorch and scikit-learn imported inside its functions), ``demo`` runs them through every
installed route, and ``plugin`` adds the ``demo`` command through ``register_commands``.
"""
