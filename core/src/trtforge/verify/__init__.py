"""Checking without a GPU: network snapshots and their layer table, rebuilding from a snapshot,
and ``check`` / ``debug_layers`` with the one verdict.

Empty on purpose: import the modules themselves (nothing heavy is imported here)."""
