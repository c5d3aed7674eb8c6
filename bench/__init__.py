"""Benchmarks (issues 3, 4, 9): run them all with `make bench`; results in bench/RESULTS.md."""
