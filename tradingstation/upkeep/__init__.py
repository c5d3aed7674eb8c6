"""Upkeep of the data store: backup/restore, integrity verification, gaps, cleanup, rebuild,
health, triage, and when each operation may run."""
