"""mremapctl: try mremap(2) live or against a model of a chosen kernel, and see what changed."""

__version__ = "0.1.0"
