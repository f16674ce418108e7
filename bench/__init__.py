"""Benchmarks at the scale of real campaigns (issue 7). Run: `bash scripts/bench.sh`."""
