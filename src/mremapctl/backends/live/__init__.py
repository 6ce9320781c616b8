"""The live backend: real syscalls in a forked child, inside the lab."""
