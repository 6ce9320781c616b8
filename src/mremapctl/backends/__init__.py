"""Backends: where an experiment's syscalls happen (live) or are modelled (sim)."""
