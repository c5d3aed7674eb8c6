"""Storage tests: contract suite over both backends, atomicity, keys."""
