"""Small test helpers shared across the suite."""
