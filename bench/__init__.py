"""Benchmarks: each script prints its figures; see bench/README.md."""
