"""Data layer: bar schema and validation, merging, coverage ledger, retention, fetch jobs."""
