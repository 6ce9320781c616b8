"""``python -m mremapctl``: target machines often have no bin/ on PATH."""

from mremapctl.cli import main

main()
