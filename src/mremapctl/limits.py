"""How much memory the tool will populate on its own: one home for the limit every live path
applies (experiments, bench, the GC demo, and the C program's check).

Filling or locking more than half of MemAvailable could push a machine into swap or the OOM
killer; below 64 MiB it is never worth reading /proc/meminfo for.
"""

POPULATE_SHARE = 0.5  # of MemAvailable, without --force
POPULATE_FLOOR = 64 << 20  # bytes: never refused below this
