"""Benchmarks: `python -m bench <scenario>|all [--quick]`; see docs/performance.md."""
