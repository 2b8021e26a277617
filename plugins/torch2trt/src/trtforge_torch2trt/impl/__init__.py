"""Shared layer builders: each takes the :class:`NetworkContext`, ITensors and a name.

Converters are thin adapters that read an ATen node's arguments and call these. Every
builder names its final layer and output ``name`` and its helper layers ``name/<what>``.
"""
