# Benchmarks (bench/RESULTS.md): `make bench` runs them all and rewrites the report.
.PHONY: bench bench-quick

bench:
	./dev setup
	.venv/bin/python -m bench.run_all

bench-quick:
	./dev setup
	.venv/bin/python -m bench.run_all --quick
