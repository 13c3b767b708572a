"""Benchmarks for ssp-desktop: run as scripts, e.g. ``python benchmarks/store_bench.py``."""
