"""Benchmarks: `python -m bench.<name>`, one question per module."""
