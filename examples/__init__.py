"""Examples an integrator can copy; see examples/README.md."""
