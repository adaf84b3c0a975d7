"""Benchmarks of the Atelico sidecar: ``python -m bench`` (see bench/README.md)."""
