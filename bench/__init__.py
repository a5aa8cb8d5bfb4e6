"""Benchmarks, run by hand (`python bench/NAME.py`); results in docs/benchmarks.md. Not tests."""
