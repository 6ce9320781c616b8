"""Renderers: turn a Run into rich tables, JSON, or Markdown. Nothing here runs experiments."""
