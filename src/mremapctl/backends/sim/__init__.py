"""The simulation backend: an address-space model of a chosen kernel version."""
