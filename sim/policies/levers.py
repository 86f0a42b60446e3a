"""Import every lever module so that each registers itself (one module per lever)."""
