"""bench: cases, statistics, chart, and quick live runs."""
