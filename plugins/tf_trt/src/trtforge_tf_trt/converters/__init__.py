"""Built-in converters, one module per op family; each module's decorated functions are
collected by :func:`trtforge_tf_trt.registry.builtin_supports`."""
