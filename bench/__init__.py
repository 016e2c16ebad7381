"""Benchmarks (run as scripts: python bench/speed.py, python bench/load.py)."""
