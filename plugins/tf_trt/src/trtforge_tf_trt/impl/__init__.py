"""Layer builders the converters share: each takes ``net`` and values, returns an ``Act``."""
